"""Composition root of one entity adapter process."""

import asyncio
from pathlib import Path

import structlog

from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin, connect
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.logging import setup_logging
from services.shutdown import stop_on_signals

from .answers import keep_answering
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
    office = back_office(effects)
    runner = AdapterRunner(adapter, office, js)
    tasks = {asyncio.create_task(runner.run(stop), name=f"adapter-{entity}")}
    if adapter.answer_due is not None:  # the back office answers some requests later
        answering = keep_answering(adapter.answer_due, office, js, entity, stop)
        tasks.add(asyncio.create_task(answering, name=f"answers-{entity}"))
    log.info("adapter running", entity=entity)
    await stop.wait()
    # Let the current batch finish (results published, requests acked) before leaving.
    _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await nc.drain()
    log.info("adapter stopped", entity=entity)
