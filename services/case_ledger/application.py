"""The case ledger application: opens cases, records entity answers, moves cases on, and
answers what a case looks like now and what happened to it.

Every change is saved together with a tracking record of the bus position that caused it, in
one transaction, so reading the same message again changes nothing.

Over 300 lines because it is eventsourcing's Application subclass: the store, crypto and
projection wiring, the commands and the queries meet here; the batch (case_batch.py), the views
(case_views.py) and the personal-data rules (personal/) are their own modules.
"""

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    Mapper,
    Notification,
    ProcessRecorder,
    Recording,
    Tracking,
)

from schemas.catalog import ProcedureSpec
from schemas.messages import StepResult, SubmitCase
from schemas.views import CaseHistory, CaseView
from services.errors import CaseNotFound

from .access_projection import AccessProjection, access_table_for
from .audit.chain import ChainedEventStore
from .case_batch import CaseBatch, Filing
from .case_views import case_view_of, delivery_of, history_of
from .domain import CaseFile
from .event_traces import stamp_trace, trace_of
from .followed_streams import (
    Followed,
    StreamIdentity,
    check_stream,
    followed_streams_for,
    fresh_tracking_name,
)
from .personal.citizens import CitizenKeys
from .personal.erasure import Erasure, erase_citizen
from .personal.fields import PersonalFields
from .personal.keystore import key_store_for
from .personal.ledger_master import ledger_master_key
from .personal.mapper import PersonalDataMapper, step_subjects
from .reads import ReadLog, read_table_for
from .recent_log import RecentLog
from .store import MASTER_KEY_SETTING

log = structlog.get_logger(__name__)

OUTBOX = "outbox"


class CaseLedger(Application[UUID]):
    name = "CaseLedger"

    def __init__(
        self, catalog: dict[str, ProcedureSpec], env: dict[str, str], cached_cases: int = 0
    ) -> None:
        """`cached_cases`: keep that many recently saved cases in memory, for the one process
        that writes the ledger (a reader's cache would not see the writer's changes)."""
        settings = {**env, "IS_SNAPSHOTTING_ENABLED": "n"}
        if cached_cases > 0:
            # Saved cases go into the cache as saved, and come out as deep copies, so a change
            # that fails to save never reaches it. No fast-forward read: this process is the
            # only writer; a concurrent one (by mistake) shows as an IntegrityError on save,
            # after which the cases involved are read again (see `_save`).
            settings |= {
                "AGGREGATE_CACHE_MAXSIZE": str(cached_cases),
                "AGGREGATE_CACHE_FASTFORWARD": "n",
            }
        super().__init__(env=settings)
        self.catalog = catalog
        self.followed_streams = followed_streams_for(self.recorder)
        self.recent = RecentLog()

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    def construct_mapper(self) -> Mapper[UUID]:
        # Writes encrypt personal values; reads strip the hash-chain seal that the event store
        # writes (see audit.chain) and open them again (see personal.mapper).
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=PersonalDataMapper
        )

    def construct_event_store(self) -> EventStore[UUID]:
        # Here, not in construct_mapper: the key table lives in the recorder's database.
        store = key_store_for(self.recorder)
        master = ledger_master_key(store, self.env.get(MASTER_KEY_SETTING))
        self.citizen_keys = CitizenKeys(store, master)
        assert isinstance(self.mapper, PersonalDataMapper)
        self.mapper.fields = PersonalFields(self.citizen_keys)
        self.access = AccessProjection(self, access_table_for(self.recorder))
        self.reads = ReadLog(read_table_for(self.recorder))
        return ChainedEventStore(self.mapper, self.recorder)

    def construct_recorder(self) -> ProcessRecorder:
        # A process recorder stores tracking records atomically with the events.
        recorder = self.factory.process_recorder()
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    # --- commands ------------------------------------------------------------------------

    def submit_case(self, command: SubmitCase, tracking: Tracking | None = None) -> Filing:
        batch = self.batch()
        outcome = batch.submit_case(command)
        self.save_batch(batch, tracking)
        return outcome

    def record_step_result(self, result: StepResult, tracking: Tracking | None = None) -> Filing:
        batch = self.batch()
        outcome = batch.record_step_result(result)
        self.save_batch(batch, tracking)
        return outcome

    def batch(self) -> CaseBatch:
        """Changes to many cases, made in memory and saved together by `save_batch`."""
        return CaseBatch(self)

    def save_batch(self, batch: CaseBatch, tracking: Tracking | None) -> None:
        """Every change of the batch and the tracking record in one transaction (one fsync)."""
        self._save(tracking, *batch.changed())

    def expire_overdue(self, case_id: UUID, now: datetime) -> datetime | None:
        """Fail the attempts whose deadline passed and move the case on; the next deadline."""
        case = self.find_case(case_id)
        if case is None or case.is_final:
            return None
        proc = self.catalog[case.procedure]
        overdue = case.overdue_steps(proc, now)
        for step_id in overdue:
            deadline = case.deadline_of(proc, step_id)
            case.expire(step_id, f"no answer within the deadline of {deadline}")
            log.warning("step deadline passed", case_id=str(case_id), step_id=step_id)
        if overdue:
            case.advance(proc)
            # No message caused these events: they carry the trace of the case's earlier ones.
            stamp_trace(case, self.case_trace_id(case_id))
            self._save(None, case)
        return case.next_deadline(proc)

    def case_trace_id(self, case_id: UUID) -> str | None:
        """The trace id stored with the case's latest event that has one (None: no event has)."""
        for event in self.events.get(case_id, desc=True):
            trace_id = trace_of(event)
            if trace_id is not None:
                return trace_id
        return None

    def is_tracked(self, tracking: Tracking) -> bool:
        """True when the message at this position was already processed (positions only grow)."""
        return self.process_recorder.has_tracking_id(
            tracking.application_name, tracking.notification_id
        )

    def forget_cached_cases(self) -> None:
        """Empty the writer's cache: another worker may have written these cases since."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            self.repository.cache = LRUCache(maxsize=cache.maxsize)

    def position(self, tracking_name: str) -> int:
        return self.process_recorder.max_tracking_id(tracking_name) or 0

    def stream_position(self, source: str) -> int:
        """How far the ledger has read `source` in the stream it follows now."""
        followed = self.followed_streams.get(source)
        return self.position(followed.tracking_name if followed else source)

    def source_positions(
        self, source: str, tracked: Callable[[str], tuple[str, ...]]
    ) -> dict[str, int]:
        """The positions of `source` now, by tracking name (every partition's)."""
        followed = self.followed_streams.get(source)
        names = {source, *(() if followed is None else (followed.tracking_name,))}
        return {n: self.position(n) for name in names for n in tracked(name)}

    def follow_stream(
        self,
        source: str,
        current: StreamIdentity,
        tracked: Callable[[str], tuple[str, ...]] = lambda name: (name,),
        before: dict[str, int] | None = None,
    ) -> str:
        """The tracking name to read `current` under; raises `StreamMismatch` when reading it
        from the recorded position could skip messages (see followed_streams). `tracked`: the
        tracking names positions are saved under, from the source's own (one per partition);
        `before`: positions read before `current` was (see `source_positions`)."""
        known = before or {}

        def position_of(tracking: str) -> int:
            return max(known.get(n, self.position(n)) for n in tracked(tracking))

        followed, new = check_stream(
            source, self.followed_streams.get(source), current, position_of
        )
        if new:
            self.followed_streams.put(followed)
        return followed.tracking_name

    def follow_new_streams(self, streams: dict[str, str]) -> list[Followed]:
        """Read each source's next stream (`streams`: source -> stream name) from its first
        message: the way out when the old stream is lost for good. Only while no ledger process
        runs on this store."""
        renewed = [
            Followed(source, stream, None, fresh_tracking_name(source))
            for source, stream in streams.items()
        ]
        for followed in renewed:
            self.followed_streams.put(followed)
        return renewed

    def advance_position(self, source: str, position: int) -> None:
        self.process_recorder.insert_tracking(Tracking(source, position))

    def erase_citizen(self, document_number: str) -> Erasure:
        """Destroy the citizen's data key: every value encrypted under it now reads `[erased]`."""
        # The followers then read the store, where the citizen's values no longer open.
        self.recent.clear()
        return erase_citizen(
            self.citizen_keys, (self.access, self.reads), self.recorder, document_number
        )

    # The one place that uses eventsourcing's private API, checked against eventsourcing 9.5.6:
    # the public `save()` builds its own ProcessingEvent without a tracking record, while every
    # change here is saved with the bus position that caused it, many cases in one group commit.
    # So `_save` drives `_record` and `_notify` itself, as `save()` does, and `_record` is
    # overridden to tell the personal-data mapper which subject each step's request has.
    def _record(self, processing: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        cases = processing.aggregates

        def subject(case_id: UUID, step_id: str) -> str | None:
            case = cases.get(case_id)
            return case.subject_of(step_id) if isinstance(case, CaseFile) else None

        with step_subjects(subject):
            return super()._record(processing)

    def _save(self, tracking: Tracking | None, *cases: CaseFile) -> None:
        processing = ProcessingEvent[UUID](tracking)
        processing.collect_events(*cases)
        try:
            recordings = self._record(processing)
        except IntegrityError:
            # Another writer saved one of these cases first: forget what we remembered of them.
            if self.repository.cache is not None:
                for case in cases:
                    with contextlib.suppress(KeyError):
                        self.repository.cache.get(case.id, evict=True)
            raise
        for recording in recordings:
            self.recent.add(recording.notification, recording.domain_event)
        self._notify(recordings)

    def find_case(self, case_id: UUID) -> CaseFile | None:
        """The case as last saved (from the cache in the writer), or None."""
        try:
            case: object = self.repository.get(case_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(case, CaseFile)
        return case

    # --- queries -------------------------------------------------------------------------

    def is_recorded(self, case_id: UUID) -> bool:
        return self.find_case(case_id) is not None

    def case_view(self, case_id: UUID) -> CaseView:
        case = self.find_case(case_id)
        if case is None:
            raise CaseNotFound(str(case_id))
        return case_view_of(case, self.catalog[case.procedure])

    def recorded_view(self, case_id: UUID, version: int) -> CaseView:
        """The case's view at `version` or later, for a reader on another thread than the
        writer's: from the cache when it holds that version already, else from the store as of
        `version`. It never fills the cache: a reader could put an older case there than the
        one the writer just saved, and the cache lags the store for a moment after each commit.
        """
        case: object = None
        if self.repository.cache is not None:
            # Read as cached, not copied: the writer never changes a case after saving it (each
            # change starts from a fresh copy), and a view only reads it.
            with contextlib.suppress(KeyError):
                case = self.repository.cache.get(case_id)
        if not isinstance(case, CaseFile) or case.version < version:
            try:
                case = self.repository.get(case_id, version=version)
            except AggregateNotFoundError:
                raise CaseNotFound(str(case_id)) from None
        assert isinstance(case, CaseFile)
        return case_view_of(case, self.catalog[case.procedure])

    def case_history(self, case_id: UUID) -> CaseHistory:
        events = list(self.events.get(case_id))
        if not events:
            raise CaseNotFound(str(case_id))
        return history_of(case_id, events)

    def case_replay(
        self, case_id: UUID, *, as_of: datetime | None = None, version: int | None = None
    ) -> CaseHistory:
        """The case as it stood at a moment or a version, with its events up to that point."""
        events: list[Any] = list(self.events.get(case_id))
        if not events:
            raise CaseNotFound(str(case_id))
        if as_of is not None:
            events = [e for e in events if e.timestamp <= as_of]
        if version is not None:
            events = [e for e in events if e.originator_version <= version]
        if not events:
            raise CaseNotFound(f"{case_id} did not exist yet")
        case: Any = None
        for event in events:  # the case as of its last event here, from the events in hand
            case = event.mutate(case)
        assert isinstance(case, CaseFile)
        last = events[-1].originator_version
        return history_of(case_id, events).model_copy(
            update={
                "as_of": as_of,
                "version": last,
                "state": case_view_of(case, self.catalog[case.procedure]),
                "received": [delivery_of(e) for e in events if hasattr(e, "request")],
            }
        )

    def recorded_event(self, notification: Notification) -> Any:
        """The domain event of a notification: as this process saved it, when it still holds
        it (a follower then neither decodes nor decrypts what was just written), else decoded
        from the store."""
        event = self.recent.event(notification.id)
        return event if event is not None else self.mapper.to_domain_event(notification)

    def notifications_after(self, position: int, limit: int) -> list[Notification]:
        """The log after `position`: from memory when this process just saved what follows it
        (see recent_log), else from the store."""
        held = self.recent.after(position, limit)
        if held is not None:
            return held
        return list(
            self.recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
        )
