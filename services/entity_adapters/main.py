"""Composition root of one entity adapter process."""

import asyncio
from pathlib import Path

import structlog

from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.logging import setup_logging
from services.shutdown import stop_on_signals

from .backoffices.effects import EffectLog
from .registry import ADAPTERS, effects_file
from .runner import AdapterRunner, adapter_broker

log = structlog.get_logger(__name__)

ENTITY_IDS = tuple(ADAPTERS)


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
    broker = adapter_broker(nats_url, entity, login)
    runner = AdapterRunner(adapter, back_office(effects), broker, login)
    log.info("adapter running", entity=entity)
    # Stopping lets the requests in flight finish (results published, requests acked).
    await runner.run(stop)
    log.info("adapter stopped", entity=entity)
