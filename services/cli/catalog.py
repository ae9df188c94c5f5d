"""`ventanilla catalog check`: read and check every procedure and delegation file without
starting anything.

The same check `ventanilla up` and every service run at start-up (docs/catalog.md), for an
administrator who has just dropped a file into the data dir's catalog/ folder. Here the
delegations' channels are checked too, against the channels the data dir's gateway has tokens
for, when it has a token file: at start-up a channel may still be waiting for its token.
"""

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from schemas.catalog import CatalogError
from schemas.delegation_files import load_delegations
from schemas.entities import EntityPackageError
from schemas.procedures import catalog, catalog_folders
from services.cli.options import DEFAULT_DIR, DataDirOption
from services.credentials import load_token_records
from services.datadir import DataDir

app = typer.Typer(help="The procedure catalog (docs/catalog.md).", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)


def _known_channels(data_dir: Path) -> set[str] | None:
    """The channels the data dir's gateway has tokens for; None without a token file."""
    tokens = DataDir(data_dir).gateway_tokens
    if not tokens.is_file():
        return None
    records = load_token_records(tokens)
    return {r.principal.id for r in records if r.principal.kind == "channel"}


@app.command()
def check(data_dir: DataDirOption = DEFAULT_DIR) -> None:
    """Check the shipped procedure and delegation files, the data dir's catalog/ and
    $VENTANILLA_CATALOG_DIRS; print every fault with its file and line, or the procedures and
    delegations; exit 1 on a fault."""
    try:
        procedures = catalog()
        folders = [f for f in catalog_folders() if f.is_dir()]
        delegations = load_delegations(folders, procedures, _known_channels(data_dir))
    except CatalogError as exc:
        console.print(f"[bold red]the procedure catalog has {len(exc.faults)} fault(s):[/]")
        for fault in exc.faults:
            console.print(f"  {escape(fault)}", style="red")
        raise typer.Exit(1) from None
    except EntityPackageError as exc:
        console.print(f"[bold red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    console.print("folders: " + ", ".join(escape(str(f)) for f in catalog_folders()))
    for proc in procedures.values():
        console.print(f"{escape(proc.code)}  {escape(proc.title)}  ({len(proc.steps)} steps)")
    for d in delegations.values():
        at = ", ".join(d.channels)
        console.print(
            f"{escape(d.id)}  {escape(d.entity)}: {escape(', '.join(d.procedures))} at "
            f"{escape(at)}  ({escape(d.reference)})"
        )
    console.print(
        f"[green]{len(procedures)} procedures, {len(delegations)} delegations, no fault[/]"
    )
