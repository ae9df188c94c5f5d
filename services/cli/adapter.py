"""`ventanilla adapter ...`: start a new entity's package, and check a running adapter.

`check` connects as the entity's check user (`check-<entity>`, services/bus/permissions.py)
with its seed from the data dir (or `--credentials`), to the NATS URL of `dev-credentials.json`
(or `--nats-url`). Its requests carry check case ids (schemas/conformance.py), which the ledger
passes over: a check leaves no case in the record.
"""

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from nats.errors import Error as NatsError
from rich.console import Console
from rich.table import Table

from schemas.conformance import check_user_name
from schemas.entities import EntityPackageError, ServiceContract
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
from services.conformance.checks import Verdict
from services.conformance.probe import AdapterProbe
from services.conformance.suite import checks_for, run_checks
from services.datadir import DataDir
from services.entity_adapters.registry import entity_packages
from services.scaffold.writer import EntityIdError, write_package

app = typer.Typer(help="Entity adapters: scaffold a new one, check a running one.")


@app.command(name="new")
def new(
    entity: Annotated[str, typer.Argument(help="The entity id: lowercase letters, digits, -.")],
    out: Annotated[
        Path, typer.Option("--out", help="The folder to write the package to.", file_okay=False)
    ],
) -> None:
    """Write an installable entity package: contract, handler, fake back office, tests."""
    with expected_failures():
        try:
            written = write_package(entity, out)
        except EntityIdError as exc:
            raise CliError(str(exc)) from None
        except FileExistsError as exc:
            raise CliError(f"{exc.filename} exists", "Choose an empty --out folder.") from None
    console = Console(highlight=False)
    for path in written:
        console.print(f"wrote {path}")
    console.print(
        f"next: pip install -e {out}, copy {out}/procedures/* into <data dir>/catalog/, "
        "then `ventanilla up`"
    )


@app.command(name="check")
def check(
    entity: Annotated[str, typer.Argument(help="The entity whose running adapter to check.")],
    data_dir: DataDirOption = DEFAULT_DIR,
    nats_url: Annotated[
        str | None,
        typer.Option("--nats-url", help="The NATS server (default: dev-credentials.json's)."),
    ] = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for each answer of the adapter.", min=0.1)
    ] = 15.0,
) -> None:
    """Send the contract's sample requests to the running adapter; exit 0 only if all pass."""
    with expected_failures():
        contracts = _contracts(entity)
        checks, faults = checks_for(contracts)
        if faults:
            raise CliError(f"{entity}'s contracts cannot be checked", "\n".join(faults))
        url = nats_url or load_credentials(DataDir(data_dir).dev_credentials).nats_url
        login = bus_login(check_user_name(entity), data_dir, credentials, tls_ca)

        async def run() -> list[Verdict]:
            nc = await connect_for_command(url, f"ventanilla-check-{entity}", login)
            try:
                return await run_checks(AdapterProbe(nc, entity), checks, wait)
            except NatsError as exc:
                raise CliError("NATS refused or did not answer", f"{exc!r}") from None
            finally:
                await nc.close()

        verdicts = asyncio.run(run())
    failed = _print(entity, verdicts)
    if failed:
        raise typer.Exit(1)


def _contracts(entity: str) -> tuple[ServiceContract[Any, Any], ...]:
    try:
        packages = entity_packages()
    except EntityPackageError as exc:
        raise CliError(str(exc)) from None
    if entity not in packages:
        raise CliError(
            f"no installed entity package {entity!r}",
            f"Installed: {', '.join(sorted(packages))}. Install the package where this command "
            "runs (pip install -e DIR).",
        )
    return packages[entity].contracts


def _print(entity: str, verdicts: list[Verdict]) -> int:
    table = Table("check", "should", "did", "", title=f"adapter check {entity}")
    for v in verdicts:
        table.add_row(
            v.check, v.expected, v.observed, "[green]pass[/]" if v.passed else "[red]FAIL[/]"
        )
    console = Console(highlight=False, soft_wrap=True)
    console.print(table)
    failed = [v.check for v in verdicts if not v.passed]
    if failed:
        console.print(
            f"[red]{len(failed)} of {len(verdicts)} checks failed: {'; '.join(failed)}[/]"
        )
    else:
        console.print(f"[green]all {len(verdicts)} checks passed[/]")
    return len(failed)
