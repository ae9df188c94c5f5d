"""Composition root of the case ledger process."""

import asyncio
from pathlib import Path

import structlog

from schemas.catalog import ProcedureSpec
from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin, connect
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.logging import setup_logging
from services.shutdown import stop_on_signals

from .application import CaseLedger
from .audit.ledger_audit import AuditFiles, LedgerAudit
from .audit.periodic import DEFAULT_INTERVAL, CheckpointWatch
from .case_traces import CaseTraces
from .deadlines import DeadlineWatch
from .inbox import SOURCES, Inbox
from .outbox import OutboxRelay
from .queries import LedgerQueries, serve_queries
from .status_views import StatusViews
from .store import LedgerStore
from .writer import LedgerThread

log = structlog.get_logger(__name__)

# Cases kept in memory by the writing ledger: an open case is read again at each answer.
CACHED_CASES = 10_000


def serve(
    data_dir: Path,
    nats_url: str,
    signing_key: Path | None = None,
    login: BusLogin = ANONYMOUS,
    *,
    personal_data_key: Path | None = None,
) -> None:
    setup_logging("ledger")
    setup_tracing("ledger")
    folder = DataDir(data_dir)
    files = AuditFiles(signing_key or folder.audit_signing_key, folder.audit_checkpoints)
    store = LedgerStore(folder.ledger_store_url(), personal_data_key or folder.personal_data_key)
    asyncio.run(run(store, nats_url, audit_files=files, login=login))


async def run(
    store: LedgerStore,
    nats_url: str,
    stop: asyncio.Event | None = None,
    procedures: dict[str, ProcedureSpec] | None = None,
    audit_files: AuditFiles | None = None,
    checkpoint_every: float = DEFAULT_INTERVAL,
    login: BusLogin = ANONYMOUS,
) -> None:
    """Run the ledger until `stop` is set (or SIGTERM/SIGINT when no event is given).

    With `audit_files`, it also signs a checkpoint every `checkpoint_every` seconds.
    """
    stop = stop or stop_on_signals()
    ledger = CaseLedger(procedures or catalog(), store.environment(), cached_cases=CACHED_CASES)
    writer, reader = LedgerThread("ledger-writer"), LedgerThread("ledger-reader")
    views_reader = LedgerThread("ledger-status-views")
    nc = await connect(nats_url, "ventanilla-ledger", login=login)
    js = nc.jetstream()
    traces = CaseTraces()
    relay = OutboxRelay(ledger, writer, js, traces=traces)
    views = StatusViews(ledger, views_reader, writer, js)

    def saved() -> None:
        relay.notify()
        views.notify()

    inbox = Inbox(ledger, writer, js, on_saved=saved, traces=traces)
    tasks = [
        asyncio.create_task(relay.run(stop), name="outbox"),
        asyncio.create_task(views.run(stop), name="status-views"),
        asyncio.create_task(DeadlineWatch(ledger, writer).run(stop), name="deadlines"),
        asyncio.create_task(serve_queries(nc, LedgerQueries(ledger, reader), stop), name="queries"),
        *(asyncio.create_task(inbox.follow(s, stop), name=f"inbox-{s.name}") for s in SOURCES),
    ]
    if audit_files is not None:
        watch = CheckpointWatch(LedgerAudit(ledger.recorder, audit_files), reader, checkpoint_every)
        tasks.append(asyncio.create_task(watch.run(stop), name="checkpoints"))
    log.info("ledger running", store=store.url.split(":", 1)[0])
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.drain()
        writer.close()
        reader.close()
        views_reader.close()
        ledger.close()
        log.info("ledger stopped")
