"""Composition root of the hub's site relay process (`ventanilla serve site-relay`)."""

import asyncio
import contextlib
from pathlib import Path

import structlog

from services.bus.connection import BusLogin, connect
from services.logging import setup_logging
from services.shutdown import stop_on_signals

from .bundle import registered_sites
from .relay import SiteRelay

log = structlog.get_logger(__name__)


def serve(data_dir: Path, nats_url: str, login: BusLogin) -> None:
    setup_logging("site-relay")
    asyncio.run(run(data_dir, nats_url, login))


async def run(data_dir: Path, nats_url: str, login: BusLogin) -> None:
    stop = stop_on_signals()
    site_ids = [b.site for b in registered_sites(data_dir)]
    nc = await connect(nats_url, "ventanilla-site-relay", login=login)
    relay = asyncio.create_task(SiteRelay(nc, site_ids).run(stop))
    log.info("site relay running", sites=site_ids)
    try:
        await stop.wait()
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        await nc.drain()
        log.info("site relay stopped")
