"""`ventanilla dlq ...`: the dead letters of a stack, and retrying one once its cause is fixed.

Connects as the bus owner (`admin`) with the data dir's seed, to the NATS URL the stack wrote in
`dev-credentials.json` (or `--nats-url`). Bodies are never printed: they may hold personal data.
"""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError
from rich.console import Console
from rich.table import Table

from schemas.conformance import is_check_message
from services.bus import dead_letters
from services.bus.permissions import ADMIN
from services.cli.bus_client import connect_for_command
from services.cli.failures import CliError, expected_failures
from services.cli.gateway_client import load_credentials
from services.cli.options import (
    DEFAULT_DIR,
    CredentialsOption,
    DataDirOption,
    TlsCaOption,
    bus_login,
)
from services.datadir import DataDir
from services.errors import Unprocessable

T = TypeVar("T")

app = typer.Typer(help="Dead letters: list them, retry one.", no_args_is_help=True)

NatsUrlOverride = Annotated[
    str | None,
    typer.Option("--nats-url", help="The NATS server (default: the one in dev-credentials.json)."),
]


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@app.command(name="list")
def list_letters(
    data_dir: DataDirOption = DEFAULT_DIR,
    nats_url: NatsUrlOverride = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
    limit: Annotated[int, typer.Option(help="Show at most the last N.", min=1)] = 100,
) -> None:
    """Every dead letter: its id, who gave up on it, why, and where it came from."""
    with expected_failures():
        letters = asyncio.run(
            with_bus(data_dir, nats_url, credentials, tls_ca, lambda nc: _list(nc, limit))
        )
    out = console()
    if not letters:
        out.print("no dead letters")
        return
    table = Table("id", "filed by", "origin", "subject", "bytes", "reason", box=None)
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.filed_by,
            f"{letter.origin_stream}#{letter.origin_sequence}",
            letter.origin_subject,
            str(letter.size),
            f"(adapter check) {letter.reason}" if is_check_message(letter.data) else letter.reason,
        )
    out.print(table)
    out.print(f"{len(letters)} dead letter(s); `ventanilla dlq retry ID` publishes one again")


@app.command(name="retry")
def retry_letter(
    letter_id: Annotated[int, typer.Argument(help="The id shown by `dlq list`.", min=1)],
    data_dir: DataDirOption = DEFAULT_DIR,
    nats_url: NatsUrlOverride = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
) -> None:
    """Publish a dead letter's original bytes again on its original subject."""

    async def retry(nc: Client) -> tuple[dead_letters.DeadLetter, bool]:
        js = nc.jetstream()
        try:
            letter = await dead_letters.dead_letter_at(js, letter_id)
        except NotFoundError:
            raise CliError(f"no dead letter {letter_id}", "See `ventanilla dlq list`.") from None
        try:
            ack = await dead_letters.retry(js, letter)
        except Unprocessable as exc:
            raise CliError(str(exc)) from None
        return letter, ack.duplicate is True

    with expected_failures():
        letter, duplicate = asyncio.run(with_bus(data_dir, nats_url, credentials, tls_ca, retry))
    if duplicate:
        console().print(
            f"[yellow]dead letter {letter.id} was already retried a moment ago; "
            "the bus dropped this repeat[/]"
        )
        return
    console().print(f"retried dead letter {letter.id} on {letter.origin_subject}")


async def _list(nc: Client, limit: int) -> list[dead_letters.DeadLetter]:
    return await dead_letters.dead_letters(nc.jetstream(), limit=limit)


async def with_bus(
    data_dir: Path,
    nats_url: str | None,
    credentials: Path | None,
    tls_ca: Path | None,
    work: Callable[[Client], Awaitable[T]],
) -> T:
    url = nats_url or load_credentials(DataDir(data_dir).dev_credentials).nats_url
    login = bus_login(ADMIN, data_dir, credentials, tls_ca)
    nc = await connect_for_command(url, "ventanilla-dlq", login)
    try:
        return await work(nc)
    except NatsError as exc:
        raise CliError("NATS refused or did not answer", f"{type(exc).__name__}: {exc}") from None
    finally:
        await nc.close()
