"""Composition root of one entity adapter process."""

import asyncio
import logging
from pathlib import Path
from typing import Any

import structlog

from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin, connect
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.logging import setup_logging
from services.runtime import tune_garbage_collection
from services.shutdown import stop_on_signals

from .answers import keep_answering
from .backoffices.effects import EffectLog
from .registry import ADAPTERS, HTTP_BACK_OFFICES, effects_file
from .runner import AdapterRunner

log = structlog.get_logger(__name__)

ENTITY_IDS = tuple(ADAPTERS)
STOP_GRACE = 10.0  # seconds; the back-office calls of one batch


def serve(
    entity: str,
    data_dir: Path,
    nats_url: str,
    login: BusLogin = ANONYMOUS,
    back_office_url: str | None = None,
) -> None:
    """`back_office_url`: reach the entity's back office over HTTP there, not in-process."""
    if entity not in ADAPTERS:
        raise SystemExit(f"unknown entity {entity!r}; known: {', '.join(ENTITY_IDS)}")
    if back_office_url is not None and entity not in HTTP_BACK_OFFICES:
        raise SystemExit(f"{entity} has no HTTP back-office client")
    setup_logging(f"adapter-{entity}")
    setup_tracing(f"adapter-{entity}")
    catalog()  # a bad catalog stops the process before it takes any work
    if back_office_url is not None:
        # httpx logs every request at INFO: a line per call, and the call's path.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        office = HTTP_BACK_OFFICES[entity](back_office_url)
    else:
        office = ADAPTERS[entity][1](EffectLog(effects_file(DataDir(data_dir).backoffices, entity)))
    tune_garbage_collection()
    asyncio.run(run(entity, office, nats_url, login=login))


async def run(
    entity: str,
    office: Any,
    nats_url: str,
    stop: asyncio.Event | None = None,
    login: BusLogin = ANONYMOUS,
) -> None:
    """Serve `entity`'s requests with `office`, its back-office client, until `stop`."""
    stop = stop or stop_on_signals()
    adapter = ADAPTERS[entity][0]
    nc = await connect(nats_url, f"ventanilla-adapter-{entity}", login=login)
    js = nc.jetstream()
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
