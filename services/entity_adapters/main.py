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
from .package import BackOfficeFactory
from .registry import back_office_factory, effects_file, entity_packages
from .runner import AdapterRunner, adapter_broker

log = structlog.get_logger(__name__)


def serve(
    entity: str,
    data_dir: Path,
    nats_url: str,
    login: BusLogin = ANONYMOUS,
    back_office: str | None = None,
) -> None:
    setup_logging(f"adapter-{entity}")
    setup_tracing(f"adapter-{entity}")
    catalog()  # a bad catalog or entity package stops the process before it takes any work
    factory = back_office_factory(entity, back_office)
    effects = EffectLog(effects_file(DataDir(data_dir).backoffices, entity))
    asyncio.run(run(entity, effects, nats_url, login=login, back_office=factory))


async def run(
    entity: str,
    effects: EffectLog,
    nats_url: str,
    stop: asyncio.Event | None = None,
    login: BusLogin = ANONYMOUS,
    back_office: BackOfficeFactory | None = None,
) -> None:
    stop = stop or stop_on_signals()
    package = entity_packages()[entity]
    factory = back_office or package.back_office
    broker = adapter_broker(nats_url, entity, login)
    runner = AdapterRunner(package.adapter, factory(effects), broker, login)
    log.info("adapter running", entity=entity)
    # Stopping lets the requests in flight finish (results published, requests acked).
    await runner.run(stop)
    log.info("adapter stopped", entity=entity)
