"""Composition root of the gateway process: logging, tracing, NATS, the app, and uvicorn."""

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import nats.errors
import structlog
import uvicorn
from fastapi import FastAPI
from nats.aio.client import Client

from schemas.procedures import catalog
from schemas.sites import SiteLink
from services.bus.connection import ANONYMOUS, BusLogin, connect
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.logging import setup_logging
from services.observability.bus_state import HeartbeatListener
from services.runtime import tune_garbage_collection
from services.shutdown import stop_on_signals
from services.sites.bundle import registered_sites
from services.sites.links import site_links

from .app import create_app
from .auth import TokenBook
from .case_bus import DependencyUnavailable
from .nats_case_bus import NatsCaseBus
from .status_kv import KvCaseStatusFeed
from .status_watch import WatchedStatusFeed
from .web.console import WebConsole
from .web.counter_store import CounterStore

log = structlog.get_logger(__name__)

# The process's one status watch, and the app built on it once NATS is connected: the hub's
# watches the ledger's status bucket; a MAC Express site's (services/sites) the statuses the
# hub sent back to it.
StatusWatch = Callable[[Client], WatchedStatusFeed]
AppBuilder = Callable[[Client, DataDir, WatchedStatusFeed | None], FastAPI]
_STARTING: set[asyncio.Task[None]] = set()


def hub_app(nc: Client, data: DataDir, feed: WatchedStatusFeed | None) -> FastAPI:
    site_ids = [b.site for b in registered_sites(data.root)]

    async def links() -> list[SiteLink]:
        try:
            return await site_links(nc, site_ids)
        except (LookupError, TimeoutError, nats.errors.Error) as exc:
            raise DependencyUnavailable("nats", type(exc).__name__) from None

    # The API's overview and the operators' sites page read the same links.
    sites = links if site_ids else None
    bus = NatsCaseBus(nc)
    heartbeats = HeartbeatListener()
    # Heard from now on; the operators' cards say "no signal" until a process's first beat.
    # (The task is kept referenced: the loop holds only a weak reference to it.)
    task = asyncio.get_running_loop().create_task(heartbeats.start(nc), name="heartbeats")
    _STARTING.add(task)
    task.add_done_callback(_STARTING.discard)
    pages = (
        None
        if feed is None
        else WebConsole(
            bus,
            feed,
            CounterStore(data.counter_store),
            heartbeats=heartbeats,
            site_links=sites,
        )
    )
    return create_app(
        bus,
        TokenBook(data.gateway_tokens),
        pages=pages,
        checkpoint_keys=data.audit_key_list,
        status_feed=feed,
        site_links=sites,
    )


def serve(data_dir: Path, nats_url: str, host: str, port: int, login: BusLogin = ANONYMOUS) -> None:
    """Run the gateway in the foreground until SIGTERM or SIGINT."""
    setup_logging("gateway")
    setup_tracing("gateway")
    # uvicorn's start/stop banners are plain text in a JSON log; its warnings and errors stay.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    tune_garbage_collection()
    asyncio.run(run(DataDir(data_dir), nats_url, host, port, login=login))


async def run(
    data: DataDir,
    nats_url: str,
    host: str,
    port: int,
    stop: asyncio.Event | None = None,
    login: BusLogin = ANONYMOUS,
    build_app: AppBuilder = hub_app,
    status_watch: StatusWatch | None = KvCaseStatusFeed,
) -> None:
    """Serve until `stop` is set (or SIGTERM/SIGINT when no event is given)."""
    stop = stop or stop_on_signals()
    catalog()  # an inconsistent catalog fails here, before we accept anything
    nc = await connect(nats_url, "ventanilla-gateway", login=login)
    # The process's one watch of the status bucket, fanned out to every follower.
    feed = status_watch(nc) if status_watch is not None else None
    try:
        if feed is not None:
            await feed.start()
        app = build_app(nc, data, feed)
        server = _Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                access_log=False,  # our own request log carries ids only (observability.py)
                log_config=None,  # keep the JSON logging set up by setup_logging
                lifespan="off",
                server_header=False,
                timeout_graceful_shutdown=5,
            )
        )
        serving = asyncio.create_task(server.serve(), name="uvicorn")
        stopping = asyncio.create_task(stop.wait(), name="stop")
        log.info("gateway running", host=host, port=port)
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        if feed is not None:  # ends the event streams, which uvicorn would otherwise wait for
            await feed.close()
        stopping.cancel()
        await serving  # re-raises if uvicorn failed (e.g. the port is taken)
        if not server.started:
            raise RuntimeError(f"the gateway could not listen on {host}:{port}")
    finally:
        if feed is not None:
            await feed.close()
        await nc.drain()
        log.info("gateway stopped")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: we stop it ourselves, then drain NATS."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
