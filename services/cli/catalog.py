"""`ventanilla catalog check`: read and check every procedure file without starting anything.

The same check `ventanilla up` and every service run at start-up (docs/catalog.md), for an
administrator who has just dropped a file into the data dir's catalog/ folder.
"""

import typer
from rich.console import Console
from rich.markup import escape

from schemas.catalog import CatalogError
from schemas.entities import EntityPackageError
from schemas.procedures import catalog, catalog_folders
from services.cli.options import DEFAULT_DIR, DataDirOption

app = typer.Typer(help="The procedure catalog (docs/catalog.md).", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)


@app.command()
def check(data_dir: DataDirOption = DEFAULT_DIR) -> None:
    """Check the shipped procedure files, the data dir's catalog/ and $VENTANILLA_CATALOG_DIRS;
    print every fault with its file and line, or the procedures; exit 1 on a fault."""
    try:
        procedures = catalog()
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
    console.print(f"[green]{len(procedures)} procedures, no fault[/]")
