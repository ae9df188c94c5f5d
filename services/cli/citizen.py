"""`ventanilla citizen ...`: what the ledger holds about one citizen, read from the data dir."""

import re
from typing import Annotated

import typer
from rich.console import Console

from schemas.citizens import DNI_PATTERN
from services.cli import render
from services.cli.failures import CliError, expected_failures
from services.cli.options import DEFAULT_DIR, DataDirOption
from services.datadir import DataDir

app = typer.Typer(help="A citizen's data in the ledger.", no_args_is_help=True)

DocumentNumber = Annotated[str, typer.Argument(help="The citizen's DNI (8 digits).")]


@app.command("access-log")
def access_log(document_number: DocumentNumber, data_dir: DataDirOption = DEFAULT_DIR) -> None:
    """Who used this citizen's data: every exchange between entities in their cases (DL 1211)."""
    # Imported here, as in `case`, so the CLI starts without loading the ledger's libraries.
    from services.case_ledger.access_log import citizen_access_log
    from services.cli.ledger import open_ledger

    with expected_failures():
        if not re.fullmatch(DNI_PATTERN, document_number):
            raise CliError("a DNI has exactly 8 digits", "e.g. 40000001")
        with open_ledger(DataDir(data_dir)) as ledger:
            log = citizen_access_log(ledger, document_number)
    Console(highlight=False, soft_wrap=True).print(render.access_log(log))
