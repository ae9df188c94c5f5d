"""Composition root of one entity adapter process."""

import asyncio
from pathlib import Path

import structlog

from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin, connect
from services.bus.heartbeats import Activity, send_heartbeats
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.logging import setup_logging
from services.runtime import tune_garbage_collection
from services.shutdown import stop_on_signals

from .backoffices.effects import EffectLog
from .registry import ADAPTERS, effects_file
from .runner import AdapterRunner

log = structlog.get_logger(__name__)

ENTITY_IDS = tuple(ADAPTERS)
STOP_GRACE = 10.0  # seconds; the back-office calls of one batch


def serve(entity: str, data_dir: Path, nats_url: str, login: BusLogin = ANONYMOUS) -> None:
    if entity not in ADAPTERS:
        raise SystemExit(f"unknown entity {entity!r}; known: {', '.join(ENTITY_IDS)}")
    setup_logging(f"adapter-{entity}")
    setup_tracing(f"adapter-{entity}")
    catalog()  # a bad catalog stops the process before it takes any work
    effects = EffectLog(effects_file(DataDir(data_dir).backoffices, entity))
    tune_garbage_collection()
    asyncio.run(run(entity, effects, nats_url, login=login))


async def run(
    entity: str,
    effects: EffectLog,
    nats_url: str,
    stop: asyncio.Event | None = None,
    login: BusLogin = ANONYMOUS,
) -> None:
    stop = stop or stop_on_signals()
    adapter, back_office = ADAPTERS[entity]
    nc = await connect(nats_url, f"ventanilla-adapter-{entity}", login=login)
    js = nc.jetstream()
    activity = Activity()
    runner = AdapterRunner(adapter, back_office(effects), js, activity=activity)
    task = asyncio.create_task(runner.run(stop), name=f"adapter-{entity}")
    beats = asyncio.create_task(send_heartbeats(nc, entity, activity, stop), name="heartbeats")
    log.info("adapter running", entity=entity)
    await stop.wait()
    # Let the current batch finish (results published, requests acked) before leaving.
    done, _ = await asyncio.wait({task}, timeout=STOP_GRACE)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await asyncio.gather(beats, return_exceptions=True)
    await nc.drain()
    log.info("adapter stopped", entity=entity)
