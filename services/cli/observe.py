"""`ventanilla metrics serve` and `ventanilla status`: what an operator watches, from the bus.

Both connect as the bus owner (`admin`) with the data dir's seed, to the NATS URL the stack wrote
in `dev-credentials.json` (or `--nats-url`); the metrics also read the ledger's store.
"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from nats.aio.client import Client
from nats.errors import Error as NatsError
from rich.console import Console
from rich.table import Table

from services.bus.heartbeats import HEARTBEAT_EVERY, is_up
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
from services.observability.bus_state import BusState, HeartbeatListener, bus_state
from services.shutdown import stop_on_signals

metrics_app = typer.Typer(help="The bus's Prometheus metrics.", no_args_is_help=True)

NatsUrlOverride = Annotated[
    str | None,
    typer.Option("--nats-url", help="The NATS server (default: the one in dev-credentials.json)."),
]


async def _connect(
    data_dir: Path, nats_url: str | None, credentials: Path | None, tls_ca: Path | None, name: str
) -> Client:
    url = nats_url or load_credentials(DataDir(data_dir).dev_credentials).nats_url
    login = bus_login(ADMIN, data_dir, credentials, tls_ca)
    return await connect_for_command(url, name, login)


LEDGER_WAIT_TICKS = 300  # 60 s in steps of 0.2 s


@metrics_app.command("serve")
def serve_metrics(
    data_dir: DataDirOption = DEFAULT_DIR,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: a free one).")] = 9464,
    nats_url: NatsUrlOverride = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
) -> None:
    """Serve /metrics in Prometheus text format until SIGTERM or Ctrl-C."""
    from setproctitle import setproctitle

    from services.cli.ledger import ledger_exists, open_ledger
    from services.observability.exporter import serving_metrics

    async def run() -> None:
        stop = stop_on_signals()
        nc = await _connect(data_dir, nats_url, credentials, tls_ca, "ventanilla-metrics")
        try:
            # Started beside a new ledger (`ventanilla up` on a fresh data dir), give it the
            # moment it takes to create its store rather than fail and be restarted.
            for _ in range(LEDGER_WAIT_TICKS):
                if ledger_exists(DataDir(data_dir)) or stop.is_set():
                    break
                await asyncio.sleep(0.2)
            with open_ledger(DataDir(data_dir)) as ledger:
                async with serving_metrics(ledger, nc, host, port) as endpoint:
                    typer.echo(f"metrics at {endpoint.url}", err=True)
                    await stop.wait()
        finally:
            await nc.close()

    setproctitle("ventanilla metrics")  # how `ps` and `ventanilla up`'s tests tell it apart
    with expected_failures():
        asyncio.run(run())


def status(
    data_dir: DataDirOption = DEFAULT_DIR,
    listen: Annotated[
        float, typer.Option(help="Seconds to listen for heartbeats.", min=0.5)
    ] = HEARTBEAT_EVERY + 1,
    nats_url: NatsUrlOverride = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
) -> None:
    """Every process with its heartbeat and last activity, and each entity's queue."""

    async def run() -> BusState:
        nc = await _connect(data_dir, nats_url, credentials, tls_ca, "ventanilla-status")
        listener = HeartbeatListener()
        try:
            await listener.start(nc)
            await asyncio.sleep(listen)  # every process beats once in HEARTBEAT_EVERY seconds
            return await bus_state(nc.jetstream(), listener)
        except NatsError as exc:
            raise CliError(
                "NATS refused or did not answer", f"{type(exc).__name__}: {exc}"
            ) from None
        finally:
            await listener.stop()
            await nc.close()

    with expected_failures():
        state = asyncio.run(run())
    Console(highlight=False, soft_wrap=True).print(status_table(state, datetime.now(UTC)))


def status_table(state: BusState, now: datetime) -> Table:
    table = Table(title="Processes")
    for column in ("process", "state", "last heartbeat", "last activity", "handled"):
        table.add_column(column)
    for column in ("waiting", "in hand", "redelivered", "oldest pending"):
        table.add_column(column, justify="right")
    lags = {lag.entity: lag for lag in state.lags}
    for process in sorted({"ledger", *lags, *state.heartbeats}):
        beat = state.heartbeats.get(process)
        lag = lags.get(process)
        table.add_row(
            process,
            "up" if is_up(beat, now) else "DOWN (no heartbeat)",
            "-" if beat is None else f"{(now - beat.sent_at).total_seconds():.1f} s ago",
            "-"
            if beat is None or beat.last_activity_at is None
            else f"{(now - beat.last_activity_at).total_seconds():.1f} s ago",
            "-" if beat is None else str(beat.handled),
            "-" if lag is None else str(lag.waiting),
            "-" if lag is None else str(lag.in_hand),
            "-" if lag is None else str(lag.redelivered),
            "-" if lag is None else f"{lag.oldest_pending_age_s:.1f} s",
        )
    return table
