"""`ventanilla citizen ...`: a citizen's data in the ledger, and their rights over it.

`access-log` lists who used the citizen's data (DL 1211). `rotate-master-key` re-wraps every
data key under a new master key and retires the old one. `erase` (Ley 29733) destroys the
citizen's data key: every value of theirs in the ledger (DNI, names, birth date, wherever it
appears, in their own cases and in others') then reads `[erased]`; no stored byte changes, so
`audit verify` still passes. Both run against the data dir's ledger while the stack is up or
down; a running ledger stops using an erased key within seconds.
"""

import re
from typing import Annotated

import typer
from rich.console import Console

from schemas.identifiers import DNI_PATTERN
from services.cli import render
from services.cli.failures import CliError, expected_failures
from services.cli.options import DEFAULT_DIR, DataDirOption, MasterKeyOption, PurposeOption
from services.cli.reads import cli_read
from services.datadir import DataDir

app = typer.Typer(help="A citizen's personal data in the ledger.", no_args_is_help=True)

DocumentNumber = Annotated[str, typer.Argument(help="The citizen's DNI (8 digits).")]


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def check_dni(dni: str) -> None:
    if not re.fullmatch(DNI_PATTERN, dni):
        raise CliError(f"{dni!r} is not a DNI", "A DNI number has exactly 8 digits.")


@app.command("access-log")
def access_log(
    dni: DocumentNumber,
    purpose: PurposeOption,
    data_dir: DataDirOption = DEFAULT_DIR,
    master_key: MasterKeyOption = None,
) -> None:
    """Who used this citizen's data: every exchange between entities in their cases (DL 1211),
    and every read of it (consultado por), this one included."""
    # Imported here, as in `case`, so the CLI starts without loading the ledger's libraries.
    from services.case_ledger.access_log import citizen_access_log
    from services.cli.ledger import open_ledger

    with expected_failures():
        check_dni(dni)
        with open_ledger(DataDir(data_dir), master_key) as ledger:
            log = citizen_access_log(ledger, dni, cli_read(purpose))
    console().print(render.access_log(log))


@app.command("erase")
def erase(
    dni: DocumentNumber, data_dir: DataDirOption = DEFAULT_DIR, master_key: MasterKeyOption = None
) -> None:
    """Destroy the citizen's data key: their personal data in the ledger reads `\\[erased]`."""
    from services.cli.ledger import open_ledger

    with expected_failures():
        check_dni(dni)
        with open_ledger(DataDir(data_dir), master_key) as ledger:
            erasure = ledger.erase_citizen(dni)
    if erasure.key_id is None:
        console().print("the ledger holds no personal data key for that citizen: nothing to erase")
        return
    # The DNI is not echoed: terminals and CI logs are kept longer than the ledger's keys.
    console().print(
        f"[green]erased[/] data key {erasure.key_id}: {erasure.events} stored events in "
        f"{erasure.cases} cases now show the citizen's personal data as \\[erased]"
    )
    console().print("the hash chains are unchanged: `ventanilla audit verify` still passes")


@app.command("rotate-master-key")
def rotate_master_key_command(
    data_dir: DataDirOption = DEFAULT_DIR, master_key: MasterKeyOption = None
) -> None:
    """Re-wrap every citizen's data key under a new master key and retire the old one.

    Stop the stack first: a running ledger holds the old key in memory. No stored event
    changes, so histories, erasures and `audit verify` work as before.
    """
    from services.case_ledger.personal.master import BadMasterKey
    from services.case_ledger.personal.rotation import rotate_master_key
    from services.cli.ledger import master_key_path, open_ledger

    with expected_failures():
        folder = DataDir(data_dir)
        with open_ledger(folder, master_key) as ledger:  # checks the master key opens the rows
            keys = ledger.citizen_keys
            try:
                rotation = rotate_master_key(
                    keys.store, keys.master, master_key_path(folder, master_key)
                )
            except BadMasterKey as exc:
                raise CliError(str(exc)) from None
    console().print(
        f"[green]rotated[/]: master key {rotation.old_key_id} retired, {rotation.new_key_id} "
        f"now wraps {rotation.rewrapped} data keys ({rotation.erased} erased citizens' rows "
        "hold none)"
    )
