"""`ventanilla case ...`: submit a case through the gateway, read it back from the ledger."""

import time
import uuid
from typing import Annotated
from uuid import UUID

import httpx
import typer
from rich.console import Console

from schemas.views import FINAL_STATUSES, CaseView
from services.cli import render
from services.cli.failures import CliError, expected_failures
from services.cli.gateway_client import (
    Submission,
    channel_token,
    load_credentials,
    submit,
)
from services.cli.options import DEFAULT_DIR, DataDirOption
from services.datadir import DataDir
from services.errors import CaseNotFound

app = typer.Typer(help="Submit a case and follow it.", no_args_is_help=True)


def console() -> Console:
    # Made per command, so the terminal's width (COLUMNS) is read when the command runs.
    return Console(highlight=False, soft_wrap=True)


def parse_inputs(pairs: list[str]) -> dict[str, str]:
    """`--input reason=perdida --input x=y` → {"reason": "perdida", "x": "y"}."""
    inputs: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--input {pair!r} is not KEY=VALUE", "Example: --input reason=perdida")
        inputs[key.strip()] = value
    return inputs


@app.command("submit")
def submit_case(
    procedure: Annotated[str, typer.Option(help="Procedure code, e.g. duplicado-dni.")],
    dni: Annotated[str, typer.Option(help="The citizen's DNI (8 digits).")],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", help="A procedure input as KEY=VALUE; repeat for more."),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Demo channel to submit as (default: the first one).")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Same key, same case (default: a fresh one).")
    ] = None,
    data_dir: DataDirOption = DEFAULT_DIR,
) -> None:
    """Submit a case through the gateway, as a MAC channel."""
    with expected_failures():
        credentials = load_credentials(DataDir(data_dir).dev_credentials)
        channel, token = channel_token(credentials, channel)
        submission = Submission(
            procedure, dni, parse_inputs(inputs or []), idempotency_key or str(uuid.uuid4())
        )
        with httpx.Client(base_url=credentials.gateway_url, timeout=10.0) as client:
            accepted = submit(client, token, submission)
    out = console()
    if accepted.receipt is not None:
        # A MAC Express site: the ledger is at the hub, so `case show` has nothing to read here.
        out.print(f"[green]case {accepted.case_id}[/] {accepted.receipt} (channel {channel})")
        out.print(f"follow it: [bold]ventanilla site cases --data-dir {data_dir}[/]")
        return
    out.print(f"[green]case {accepted.case_id}[/] {accepted.status} (channel {channel})")
    out.print(
        f"follow it: [bold]ventanilla case show {accepted.case_id} --data-dir {data_dir} --wait[/]"
    )


@app.command("show")
def show_case(
    case_id: Annotated[str, typer.Argument(help="The case id returned at submission.")],
    data_dir: DataDirOption = DEFAULT_DIR,
    wait: Annotated[
        bool, typer.Option("--wait", help="Poll until the case is completed or rejected.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="How long --wait waits, in seconds.")] = 60.0,
) -> None:
    """A case's status and its steps, read from the ledger in the data dir."""
    with expected_failures():
        view = read_view(DataDir(data_dir), parse_case_id(case_id), wait=wait, timeout=timeout)
    console().print(render.case_view(view))


@app.command("history")
def show_history(
    case_id: Annotated[str, typer.Argument(help="The case id returned at submission.")],
    data_dir: DataDirOption = DEFAULT_DIR,
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help="Why you read the case (recorded with the read)."),
    ] = None,
) -> None:
    """Every ledger event of a case, in order, with the data shared between entities.

    It shows the citizens' personal data, so the read is recorded in their access logs.
    """
    from services.case_ledger.access_log import CASE_HISTORY, record_case_read
    from services.cli.ledger import open_ledger
    from services.cli.reads import cli_read

    with expected_failures(), open_ledger(DataDir(data_dir)) as ledger:
        case = parse_case_id(case_id)
        try:
            history = ledger.case_history(case)
        except CaseNotFound:
            raise CliError(f"no case {case_id} in {data_dir}") from None
        record_case_read(ledger, case, cli_read(purpose), CASE_HISTORY)
    console().print(render.case_history(history))


def parse_case_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise CliError(f"{text!r} is not a case id", "A case id looks like a UUID.") from None


def read_view(data_dir: DataDir, case_id: UUID, *, wait: bool, timeout: float) -> CaseView:
    from services.cli.ledger import open_ledger

    deadline = time.monotonic() + timeout
    with open_ledger(data_dir) as ledger:
        while True:
            try:
                view = ledger.case_view(case_id)
            except CaseNotFound:
                view = None
            if view is not None and (not wait or view.status in FINAL_STATUSES):
                return view
            if not wait:
                raise CliError(f"no case {case_id} in {data_dir.root}")
            if time.monotonic() >= deadline:
                if view is None:
                    raise CliError(f"no case {case_id} in {data_dir.root} after {timeout:.0f}s")
                return view
            time.sleep(0.2)
