"""Expected failures of a command: a short red message and exit status 1, never a traceback."""

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

errors = Console(stderr=True, highlight=False)


class CliError(Exception):
    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


@contextmanager
def expected_failures() -> Iterator[None]:
    try:
        yield
    except CliError as exc:
        errors.print(f"[bold red]{exc.message}[/]")
        if exc.detail:
            errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
