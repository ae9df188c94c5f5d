"""Composition root of the case ledger process."""

import asyncio
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import structlog

from schemas.catalog import ProcedureSpec
from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin, connect
from services.bus.heartbeats import send_heartbeats
from services.bus.permissions import LEDGER
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.logging import setup_logging
from services.runtime import tune_garbage_collection
from services.shutdown import stop_on_signals

from .access_watch import AccessLogWatch
from .application import CaseLedger
from .audit.ledger_audit import AuditFiles, LedgerAudit
from .audit.periodic import DEFAULT_INTERVAL, CheckpointWatch
from .case_traces import CaseTraces
from .dead_letter_desk import DeadLetterDesk
from .deadlines import DeadlineWatch
from .followed_streams import StreamMismatch
from .inbox import SOURCES, Inbox
from .opening import open_case_ledger
from .outbox import OutboxRelay
from .personal.master import BadMasterKey
from .queries import LedgerQueries, serve_queries
from .redrives import redrives_for
from .single_writer import StoreHold, StoreInUse, hold_store
from .status_views import StatusViews
from .store import LedgerStore
from .writer import LedgerThread

log = structlog.get_logger(__name__)

# Cases kept in memory by the writing ledger: an open case is read again at each answer.
CACHED_CASES = 10_000

# The exit status of a ledger that refuses to run on what it found (sysexits' EX_CONFIG):
# restarting it changes nothing until someone acts on the message it printed.
REFUSED = os.EX_CONFIG

# How often the ledger checks that it still holds its store (see single_writer).
HOLD_CHECK_EVERY = 5.0


def serve(
    data_dir: Path,
    nats_url: str,
    signing_key: Path | None = None,
    login: BusLogin = ANONYMOUS,
    *,
    master_key: Path | None = None,
) -> None:
    setup_logging("ledger")
    setup_tracing("ledger")
    folder = DataDir(data_dir)
    files = AuditFiles(signing_key or folder.audit_signing_key, folder.audit_checkpoints)
    store = LedgerStore(folder.ledger_store_url(), master_key or folder.master_key)
    tune_garbage_collection()
    run_or_refuse(run(store, nats_url, audit_files=files, login=login))


def run_or_refuse(ledger: Coroutine[Any, Any, None]) -> None:
    """Run the ledger process; when it refuses to run, say why and exit with `REFUSED`."""
    try:
        asyncio.run(ledger)
    except (StreamMismatch, StoreInUse, BadMasterKey) as exc:
        log.error("ledger refuses to run", reason=str(exc))
        # Plain text too, for whoever runs `serve ledger` in a terminal or reads the journal.
        print(f"ledger refuses to run: {exc}", file=sys.stderr)
        sys.exit(REFUSED)


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

    With `audit_files`, it also signs a checkpoint every `checkpoint_every` seconds. Raises
    `StoreInUse` when another ledger process holds the store, and `StreamMismatch` when a
    stream on the bus is not the one the ledger's positions belong to.
    """
    stop = stop or stop_on_signals()
    hold = hold_store(store)
    try:
        await _run(hold, store, nats_url, stop, procedures, audit_files, checkpoint_every, login)
    finally:
        hold.release()


async def _run(
    hold: StoreHold,
    store: LedgerStore,
    nats_url: str,
    stop: asyncio.Event,
    procedures: dict[str, ProcedureSpec] | None,
    audit_files: AuditFiles | None,
    checkpoint_every: float,
    login: BusLogin,
) -> None:
    env = store.environment()
    ledger = open_case_ledger(procedures or catalog(), env, cached_cases=CACHED_CASES)
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
    failures: list[BaseException] = []

    def stop_on_failure(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())  # type: ignore[arg-type]
            stop.set()

    try:
        # Every stream is checked before anything is read, published or written.
        for source in SOURCES:
            await inbox.readable(source, stop)
    except BaseException:
        views_reader.close()
        await _close(nc, writer, reader, ledger)
        raise
    audit = None if audit_files is None else LedgerAudit(ledger.recorder, audit_files)
    tasks = [
        asyncio.create_task(relay.run(stop), name="outbox"),
        asyncio.create_task(views.run(stop), name="status-views"),
        asyncio.create_task(DeadlineWatch(ledger, writer).run(stop), name="deadlines"),
        asyncio.create_task(AccessLogWatch(ledger, reader).run(stop), name="access-log"),
        asyncio.create_task(
            serve_queries(nc, LedgerQueries(ledger, reader, audit), stop), name="queries"
        ),
        *(asyncio.create_task(inbox.follow(s, stop), name=f"inbox-{s.name}") for s in SOURCES),
        asyncio.create_task(
            DeadLetterDesk(js, redrives_for(ledger.recorder), reader).serve(nc, stop),
            name="dead-letter-desk",
        ),
        asyncio.create_task(_keep(hold, stop), name="store-hold"),
        asyncio.create_task(send_heartbeats(nc, LEDGER, inbox.activity, stop), name="heartbeats"),
    ]
    if audit is not None:
        watch = CheckpointWatch(audit, reader, checkpoint_every)
        tasks.append(asyncio.create_task(watch.run(stop), name="checkpoints"))
    for task in tasks:
        task.add_done_callback(stop_on_failure)
    log.info("ledger running", store=store.url.split(":", 1)[0])
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await inbox.keep_samples()
        except Exception as exc:  # the store may be down: the periodic sample stays
            log.warning("could not record the streams' last messages", error=repr(exc))
        views_reader.close()
        await _close(nc, writer, reader, ledger)
        log.info("ledger stopped")
    if failures:
        raise failures[0]


async def _keep(hold: StoreHold, stop: asyncio.Event) -> None:
    """Returns only by raising `StoreInUse`: another ledger took the store meanwhile."""
    while not stop.is_set():
        await asyncio.sleep(HOLD_CHECK_EVERY)
        if not await asyncio.to_thread(hold.still_held):
            log.warning("cannot check the hold on the ledger store; the store may be down")


async def _close(nc: Any, writer: LedgerThread, reader: LedgerThread, ledger: CaseLedger) -> None:
    await nc.drain()
    writer.close()
    reader.close()
    ledger.close()
