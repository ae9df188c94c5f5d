"""`ventanilla ledger ...`: what the ledger follows on the bus, and the way out of a lost stream."""

import typer
from rich.console import Console

from services.case_ledger.inbox import SOURCES
from services.case_ledger.single_writer import StoreInUse, hold_store
from services.case_ledger.store import LedgerStore
from services.cli.failures import CliError, expected_failures
from services.cli.ledger import open_ledger
from services.cli.options import DEFAULT_DIR, DataDirOption, MasterKeyOption
from services.datadir import DataDir

app = typer.Typer(help="The ledger's hold on its streams.", no_args_is_help=True)


@app.command("follow-new-streams")
def follow_new_streams(
    data_dir: DataDirOption = DEFAULT_DIR, master_key: MasterKeyOption = None
) -> None:
    """Read the command and result streams from their first message, next time the ledger starts.

    For a NATS store lost for good: the ledger refuses to read a stream made again from the
    positions of the old one. Messages that only the lost store held stay lost; the cases they
    concerned stay as the ledger last recorded them.
    """
    console = Console(highlight=False, soft_wrap=True)
    folder = DataDir(data_dir.resolve())
    with expected_failures(), open_ledger(folder, master_key) as ledger:
        try:
            hold = hold_store(LedgerStore(folder.ledger_store_url()))
        except StoreInUse as exc:
            raise CliError(str(exc), "Stop the ledger (or `ventanilla up`) first.") from None
        try:
            before = {s.name: ledger.stream_position(s.name) for s in SOURCES}
            ledger.follow_new_streams({s.name: s.stream for s in SOURCES})
        finally:
            hold.release()
    for source in SOURCES:
        console.print(
            f"{source.name}: was read up to {before[source.name]}; the next {source.stream} "
            "stream the ledger finds is read from its first message"
        )
