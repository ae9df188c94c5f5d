"""Composition root of one entity adapter process."""

import asyncio
import logging
from pathlib import Path
from typing import Any

import structlog

from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin
from services.bus.heartbeats import Activity, send_heartbeats
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.logging import setup_logging
from services.runtime import tune_garbage_collection
from services.shutdown import stop_on_signals

from .answers import keep_answering
from .backoffices.effects import EffectLog
from .registry import back_office_factory, effects_file, entity_packages
from .runner import AdapterRunner, adapter_broker

log = structlog.get_logger(__name__)


def serve(
    entity: str,
    data_dir: Path,
    nats_url: str,
    login: BusLogin = ANONYMOUS,
    back_office: str | None = None,
    back_office_url: str | None = None,
) -> None:
    """`back_office`: the `module:factory` that builds the entity's back office (default: its
    package's); `back_office_url`: reach the reference back office over HTTP there instead."""
    if back_office is not None and back_office_url is not None:
        # Either would be a silent choice: one of the two back offices would never be reached.
        raise SystemExit(f"{entity}: give either --back-office or --back-office-url, not both")
    setup_logging(f"adapter-{entity}")
    setup_tracing(f"adapter-{entity}")
    catalog()  # a bad catalog or entity package stops the process before it takes any work
    factory = back_office_factory(entity, back_office)
    if back_office_url is not None:
        http = entity_packages()[entity].http_back_office
        if http is None:
            raise SystemExit(f"{entity} has no HTTP back-office client")
        # httpx logs every request at INFO: a line per call, and the call's path.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        office = http.client(back_office_url)
    else:
        office = factory(EffectLog(effects_file(DataDir(data_dir).backoffices, entity)))
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
    adapter = entity_packages()[entity].adapter
    broker = adapter_broker(nats_url, entity, login)
    activity = Activity()
    runner = AdapterRunner(adapter, office, broker, login, activity=activity)
    # Connected before the runner starts, which then reuses the connection (connect() does).
    nc = await broker.connect()
    js = nc.jetstream()
    tasks = {
        asyncio.create_task(runner.run(stop), name=f"adapter-{entity}"),
        asyncio.create_task(send_heartbeats(nc, entity, activity, stop), name="heartbeats"),
    }
    if adapter.answer_due is not None:  # the back office answers some requests later
        answering = keep_answering(adapter.answer_due, office, js, entity, stop)
        tasks.add(asyncio.create_task(answering, name=f"answers-{entity}"))
    log.info("adapter running", entity=entity)
    # Stopping lets the requests in flight finish (results published, requests acked).
    await asyncio.gather(*tasks)
    log.info("adapter stopped", entity=entity)
