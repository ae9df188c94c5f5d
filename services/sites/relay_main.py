"""Composition root of the hub's site relay process (`ventanilla serve site-relay`)."""

import asyncio
import contextlib
from pathlib import Path

import structlog

from services.bus.connection import BusLogin, connect
from services.logging import setup_logging
from services.shutdown import stop_on_signals

from .bundle import registered_sites
from .relay import FETCH_WAIT, SiteRelay

log = structlog.get_logger(__name__)

# How long a stop lets the relay finish the batches in hand: a fetch's wait and a batch's
# round trips, well within the supervisor's grace (10 s). A batch cut short is redelivered.
FINISH_WITHIN = FETCH_WAIT + 3.0


def serve(data_dir: Path, nats_url: str, login: BusLogin) -> None:
    setup_logging("site-relay")
    asyncio.run(run(data_dir, nats_url, login))


async def run(
    data_dir: Path, nats_url: str, login: BusLogin, stop: asyncio.Event | None = None
) -> None:
    """Relay until `stop` is set (or SIGTERM/SIGINT when no event is given)."""
    stop = stop or stop_on_signals()
    site_ids = [b.site for b in registered_sites(data_dir)]
    nc = await connect(nats_url, "ventanilla-site-relay", login=login)
    relay = asyncio.create_task(SiteRelay(nc, site_ids).run(stop))
    # A relay that ended on its own (an error it could not get past) ends the process, which
    # re-raises the error below: its supervisor starts it again instead of keeping it idle.
    relay.add_done_callback(lambda _: stop.set())
    log.info("site relay running", sites=site_ids)
    try:
        await stop.wait()
    finally:
        stop.set()  # also when this task itself is cancelled
        # Not cancelled at once: a cancelled batch would be forwarded again after its ack wait.
        await asyncio.wait({relay}, timeout=FINISH_WITHIN)
        relay.cancel()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await relay
        finally:
            # A client still reconnecting (NATS away) cannot drain; what it holds was not acked.
            await (nc.drain() if nc.is_connected else nc.close())
            log.info("site relay stopped")
