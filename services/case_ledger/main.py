"""Composition root of the case ledger process."""

import asyncio
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import structlog

from schemas import subjects
from schemas.catalog import ProcedureSpec
from schemas.partitions import parse_partitions
from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin, connect
from services.bus.heartbeats import send_heartbeats
from services.bus.permissions import LEDGER
from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.errors import VentanillaError
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
from .inbox import SOURCES, Inbox, InboxSource
from .opening import open_case_ledger
from .outbox import OutboxRelay
from .partition_keeper import LEADER, PartitionKeeper, StoreLocks, WholeStore
from .personal.master import BadMasterKey
from .queries import LedgerQueries, serve_queries
from .redrives import redrives_for
from .single_writer import AdvisoryLocks, StoreInUse, hold_store
from .status_views import StatusViews
from .store import LedgerStore
from .writer import LedgerThread

log = structlog.get_logger(__name__)

# Cases kept in memory by the writing ledger: an open case is read again at each answer.
CACHED_CASES = 10_000

# The exit status of a ledger that refuses to run on what it found (sysexits' EX_CONFIG):
# restarting it changes nothing until someone acts on the message it printed.
REFUSED = os.EX_CONFIG


def serve(
    data_dir: Path,
    nats_url: str,
    signing_key: Path | None = None,
    login: BusLogin = ANONYMOUS,
    *,
    master_key: Path | None = None,
    partitions: str = "all",
) -> None:
    setup_logging("ledger")
    setup_tracing("ledger")
    folder = DataDir(data_dir)
    files = AuditFiles(signing_key or folder.audit_signing_key, folder.audit_checkpoints)
    store = LedgerStore(folder.ledger_store_url(), master_key or folder.master_key)
    tune_garbage_collection()
    run_or_refuse(run(store, nats_url, audit_files=files, login=login, partitions=partitions))


def run_or_refuse(ledger: Coroutine[Any, Any, None]) -> None:
    """Run the ledger process; when it refuses to run, say why and exit with `REFUSED`."""
    try:
        asyncio.run(ledger)
    except (StreamMismatch, StoreInUse, BadMasterKey, BadPartitions) as exc:
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
    partitions: str = "all",
) -> None:
    """Run a ledger worker until `stop` is set (or SIGTERM/SIGINT when no event is given).

    `partitions` (e.g. "0-3"): the partitions this worker prefers; it stands by for the others
    (partition_keeper.py). With `audit_files`, the leader also signs a checkpoint every
    `checkpoint_every` seconds. Raises `StoreInUse` when another ledger process holds a SQLite
    store, `StreamMismatch` when a stream on the bus is not the one the ledger's positions
    belong to, and `BadPartitions` when the partitions asked for do not exist on the bus.
    """
    stop = stop or stop_on_signals()
    locks = store_locks(store)
    try:
        await _run(
            locks,
            store,
            nats_url,
            stop,
            procedures,
            audit_files,
            checkpoint_every,
            login,
            partitions,
        )
    finally:
        locks.release()


class BadPartitions(VentanillaError):
    """The partitions a worker was given do not exist on the bus, or its streams disagree."""


def store_locks(store: LedgerStore) -> StoreLocks:
    """How this worker shares the store: PostgreSQL's advisory locks, one per partition; any
    other store has one writer, which holds everything (or `StoreInUse` is raised)."""
    env = store.environment()
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        return AdvisoryLocks(env)
    hold = hold_store(store)
    return WholeStore(hold.still_held, hold.release)


async def _run(
    locks: StoreLocks,
    store: LedgerStore,
    nats_url: str,
    stop: asyncio.Event,
    procedures: dict[str, ProcedureSpec] | None,
    audit_files: AuditFiles | None,
    checkpoint_every: float,
    login: BusLogin,
    partitions: str,
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
    leading = asyncio.Event()

    def saved() -> None:
        if leading.is_set():
            relay.notify()
            views.notify()
        else:  # the leader's relay follows the store: tell it now rather than at its next poll
            asyncio.get_running_loop().create_task(_tell_leader(nc))

    inbox = Inbox(ledger, writer, js, on_saved=saved, traces=traces)
    failures: list[BaseException] = []

    def watched(task: asyncio.Task[None]) -> asyncio.Task[None]:
        task.add_done_callback(stop_on_failure)
        return task

    def stop_on_failure(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())  # type: ignore[arg-type]
            stop.set()

    try:
        # Every stream is checked before anything is read, published or written.
        for source in SOURCES:
            await inbox.readable(source, stop)
        count = _partition_count(inbox)
        preferred = _preferred(partitions, count)
    except BaseException:
        views_reader.close()
        await _close(nc, writer, reader, ledger)
        raise
    audit = None if audit_files is None else LedgerAudit(ledger.recorder, audit_files)

    def leader_tasks() -> list[asyncio.Task[None]]:
        leading.set()
        tasks = [
            asyncio.create_task(relay.run(stop), name="outbox"),
            asyncio.create_task(views.run(stop), name="status-views"),
            asyncio.create_task(DeadlineWatch(ledger, writer).run(stop), name="deadlines"),
            asyncio.create_task(AccessLogWatch(ledger, reader).run(stop), name="access-log"),
            asyncio.create_task(
                DeadLetterDesk(js, redrives_for(ledger.recorder), reader).serve(nc, stop),
                name="dead-letter-desk",
            ),
            asyncio.create_task(_follow_saves(nc, relay, views, stop), name="saves"),
            asyncio.create_task(_lead_until_cancelled(leading), name="leading"),
        ]
        if audit is not None:
            watch = CheckpointWatch(audit, reader, checkpoint_every)
            tasks.append(asyncio.create_task(watch.run(stop), name="checkpoints"))
        return [watched(t) for t in tasks]

    def partition_tasks(partition: int) -> list[asyncio.Task[None]]:
        return [
            watched(asyncio.create_task(_read(s, partition), name=f"inbox-{s.name}-{partition}"))
            for s in SOURCES
        ]

    async def _read(source: InboxSource, partition: int) -> None:
        # This worker may have held the partition before, and another one written its cases
        # since: what it remembers of them is forgotten first.
        await writer.run(ledger.forget_cached_cases)
        await inbox.follow(source, stop, partition)

    def start(key: int) -> list[asyncio.Task[None]]:
        return leader_tasks() if key == LEADER else partition_tasks(key)

    keeper = PartitionKeeper(locks, count, preferred, start, lambda: nc.is_connected)
    tasks = [
        asyncio.create_task(keeper.run(stop), name="partitions"),
        asyncio.create_task(
            serve_queries(nc, LedgerQueries(ledger, reader, audit), stop), name="queries"
        ),
        asyncio.create_task(send_heartbeats(nc, LEDGER, inbox.activity, stop), name="heartbeats"),
    ]
    for task in tasks:
        watched(task)
    log.info(
        "ledger running",
        store=store.url.split(":", 1)[0],
        partitions=count,
        preferred=sorted(preferred),
    )
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


def _partition_count(inbox: Inbox) -> int:
    counts = {source.name: inbox.partitions.get(source.name, 1) for source in SOURCES}
    if len(set(counts.values())) != 1:
        raise BadPartitions(
            f"the ledger's streams map cases to different numbers of partitions ({counts}): "
            "apply the topology again (`ventanilla deploy topology --ledger-partitions N`)"
        )
    return next(iter(counts.values()))


def _preferred(partitions: str, count: int) -> frozenset[int]:
    try:
        return parse_partitions(partitions, count)
    except ValueError as exc:
        raise BadPartitions(f"--partitions {partitions}: {exc}") from None


async def _lead_until_cancelled(leading: asyncio.Event) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        leading.clear()


async def _tell_leader(nc: Any) -> None:
    try:
        await nc.publish(subjects.LEDGER_SAVED, b"")
    except Exception as exc:  # the leader polls the store every second anyway
        log.debug("could not tell the leader of a save", error=repr(exc))


async def _follow_saves(
    nc: Any, relay: OutboxRelay, views: StatusViews, stop: asyncio.Event
) -> None:
    """The leader wakes its relay and status views when another worker saved something."""

    async def woken(_msg: Any) -> None:
        relay.notify()
        views.notify()

    sub = await nc.subscribe(subjects.LEDGER_SAVED, cb=woken)
    try:
        await stop.wait()
    finally:
        await sub.unsubscribe()


async def _close(nc: Any, writer: LedgerThread, reader: LedgerThread, ledger: CaseLedger) -> None:
    await nc.drain()
    writer.close()
    reader.close()
    ledger.close()
