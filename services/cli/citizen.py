"""`ventanilla citizen ...`: a citizen's rights over their personal data (Ley 29733).

`erase` destroys the citizen's data key. Every value of theirs in the ledger (DNI, names, birth
date, wherever it appears, in their own cases and in others') then reads `[erased]`; no stored
byte changes, so `audit verify` still passes. Runs against the data dir's ledger while the stack
is up or down; a running ledger stops using the key within seconds.
"""

import re
from typing import Annotated

import typer
from rich.console import Console

from services.cli.failures import CliError, expected_failures
from services.cli.options import DEFAULT_DIR, DataDirOption, MasterKeyOption
from services.datadir import DataDir

app = typer.Typer(help="Act on a citizen's personal data (Ley 29733).", no_args_is_help=True)


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@app.command("erase")
def erase(
    dni: Annotated[str, typer.Argument(help="The citizen's DNI (8 digits).")],
    data_dir: DataDirOption = DEFAULT_DIR,
    master_key: MasterKeyOption = None,
) -> None:
    """Destroy the citizen's data key: their personal data in the ledger reads `[erased]`."""
    from services.cli.ledger import open_ledger

    with expected_failures():
        if not re.fullmatch(r"\d{8}", dni):
            raise CliError(f"{dni!r} is not a DNI", "A DNI number has exactly 8 digits.")
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
