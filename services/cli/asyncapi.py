"""`ventanilla asyncapi`: write the bus contract, an AsyncAPI 3.0 document (docs/asyncapi.md)."""

from pathlib import Path
from typing import Annotated

import typer

from services.asyncapi.document import bus_contract

COMMITTED = Path("docs/asyncapi.json")


def asyncapi(
    out: Annotated[
        Path | None,
        typer.Option(help=f"Write it here (e.g. {COMMITTED}) instead of to standard output."),
    ] = None,
) -> None:
    """The bus contract of the installed entity packages, as AsyncAPI 3.0 JSON."""
    text = bus_contract()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)
