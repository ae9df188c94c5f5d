"""`ventanilla site ...` (at a MAC Express site) and `ventanilla sites` (at the hub)."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer
from nats.errors import Error as NatsError
from rich.console import Console
from rich.table import Table

from schemas.sites import SiteLink
from services.bus.connection import BusLogin
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
from services.logging import setup_logging
from services.shutdown import stop_flag_on_signals
from services.sites.bundle import registered_sites
from services.sites.links import site_links
from services.sites.site_stack import SiteOptions, SiteStack
from services.stack.held import StackAlreadyRunning
from services.stack.natsd import NatsServerError
from services.stack.supervisor import Supervisor
from services.stack.up import gateway_ready, wait_until

app = typer.Typer(help="A MAC Express site: run it, see its cases.", no_args_is_help=True)
READY_TIMEOUT = 60.0


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@app.command("up")
def site_up(
    hub: Annotated[str, typer.Option(help="The hub's leafnode URL (its leafnode_url).")],
    bundle: Annotated[
        Path, typer.Option(help="The site's bundle folder (`ventanilla deploy site`).")
    ],
    data_dir: DataDirOption = Path("site-var"),
    http_port: Annotated[
        int, typer.Option(help="The site gateway's port; 0 = any free port.")
    ] = 8100,
    host: Annotated[str, typer.Option(help="Interface the site's servers listen on.")] = (
        "127.0.0.1"
    ),
) -> None:
    """Run the site: its leaf-node nats-server and its gateway; Ctrl-C stops both."""
    out = console()
    stopping = stop_flag_on_signals()
    supervisor = Supervisor(on_event=lambda e: out.print(f"[dim]{e.kind} {e.name} {e.pid}[/]"))
    stack = SiteStack(SiteOptions(bundle, hub, data_dir, host, http_port), supervisor)
    try:
        info = stack.start()
    except (StackAlreadyRunning, NatsServerError, NatsError, OSError) as exc:
        out.print(f"[bold red]could not start the site: {exc}[/]")
        out.print(f"[red]logs: {data_dir / 'logs'}[/]")
        raise typer.Exit(1) from None
    if info.http_port.moved:
        out.print(
            f"[yellow]port {info.http_port.requested} is busy; using {info.http_port.port}[/]"
        )
    out.print(f"MAC Express site [bold]{info.bundle.site}[/] (channel {info.bundle.channel})")
    out.print(f"gateway      {info.gateway_url}")
    out.print(f"NATS         {info.nats_url}  (leaf node of {hub})")
    out.print(f"credentials  {info.credentials_file}")
    # The site's own console accounts: not the hub's (an advisor's hub password differs).
    for user, clerk in load_credentials(info.credentials_file).clerks.items():
        out.print(f"console      {info.gateway_url}/  {user}  {clerk.password}")
    if wait_until(
        lambda: gateway_ready(info.gateway_url),
        timeout=READY_TIMEOUT,
        tick=supervisor.tick,
        interrupted=stopping.is_set,
    ):
        out.print(f"[bold green]ready[/] at {info.gateway_url} — Ctrl-C stops the site")
    while not stopping.is_set():
        supervisor.tick()
        stopping.wait(0.2)
    out.print("stopping …")
    stack.stop()
    out.print("[bold]stopped[/]")


@app.command("cases")
def site_cases(data_dir: DataDirOption = Path("site-var")) -> None:
    """Every case taken at this site: waiting to be forwarded, or its status from the hub."""
    with expected_failures():
        credentials = load_credentials(DataDir(data_dir).dev_credentials)
        (token,) = credentials.channels.values()
        try:
            response = httpx.get(
                f"{credentials.gateway_url}/v1/site/cases",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the site's gateway at {credentials.gateway_url}") from exc
        if response.status_code != 200:
            raise CliError(f"{response.status_code} from the site's gateway", response.text)
    cases = response.json()
    table = Table("case", "procedure", "taken at", "status", box=None)
    for case in cases:
        table.add_row(case["case_id"], case["procedure"], case["submitted_at"], case["status"])
    out = console()
    out.print(table)
    waiting = sum(1 for c in cases if not c["forwarded"])
    out.print(f"{len(cases)} case(s); {waiting} waiting for the link")


def sites(
    data_dir: DataDirOption = DEFAULT_DIR,
    nats_url: Annotated[
        str | None, typer.Option("--nats-url", help="Default: the one in dev-credentials.json.")
    ] = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
) -> None:
    """Each MAC Express site: last contact, backlog waiting to be forwarded, last forward."""
    site_ids = [b.site for b in registered_sites(DataDir(data_dir).root)]
    with expected_failures():
        if not site_ids:
            raise CliError("no sites", "Write one with `ventanilla deploy site --site ID`.")
        url = nats_url or load_credentials(DataDir(data_dir).dev_credentials).nats_url
        login = bus_login(ADMIN, data_dir, credentials, tls_ca)
        # The NATS client's own logs (its connection closed) to stderr, above debug only: stdout
        # is the table docs/sites.md shows.
        setup_logging("ventanilla-sites", "WARNING")
        links = asyncio.run(_links(url, login, site_ids))
    console().print(links_table(links, datetime.now(UTC)))


async def _links(url: str, login: BusLogin, site_ids: list[str]) -> list[SiteLink]:
    nc = await connect_for_command(url, "ventanilla-sites", login)
    try:
        return await site_links(nc, site_ids)
    except (NatsError, LookupError) as exc:
        raise CliError("NATS did not answer about the sites", str(exc)) from None
    finally:
        await nc.close()


def links_table(links: list[SiteLink], now: datetime) -> Table:
    table = Table("site", "link", "last contact", "backlog", "last forward", "forwarded", box=None)
    for link in links:
        table.add_row(
            link.site,
            "[green]up[/]" if link.connected else "[red]down[/]",
            _ago(link.last_contact, now),
            str(link.backlog),
            _ago(link.last_forward, now),
            str(link.forwarded),
        )
    return table


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago ({moment:%Y-%m-%d %H:%M} UTC)"
