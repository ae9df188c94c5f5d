"""The case ledger application: opens cases, records entity answers, moves cases on, and
answers what a case looks like now and what happened to it.

Every change is saved together with a tracking record of the bus position that caused it, in
one transaction, so reading the same message again changes nothing.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    Mapper,
    Notification,
    ProcessRecorder,
    Recording,
    Tracking,
)
from pydantic import ValidationError

from schemas.catalog import ProcedureSpec
from schemas.conformance import is_check_case
from schemas.entities import SERVICES
from schemas.messages import StepResult, SubmitCase
from schemas.views import CaseHistory, CaseView, Delivery, HistoryEntry, StepView
from services.errors import CaseNotFound, Unprocessable

from .access_projection import AccessProjection, access_table_for
from .audit.chain import ChainedEventStore
from .audit.records import read_records
from .domain import ERASED, CaseFile, StepMismatch
from .event_traces import TRACE_ID, trace_of
from .followed_streams import (
    Followed,
    StreamIdentity,
    check_stream,
    followed_streams_for,
    fresh_tracking_name,
)
from .personal.citizens import CitizenKeys
from .personal.fields import ENVELOPE, PREFIX, PersonalFields
from .personal.keystore import KeyStore, MemoryKeyStore, key_store_for
from .personal.mapper import PersonalDataMapper, step_subjects
from .personal.master import BadMasterKey, MasterKey, load_master_key
from .personal.rotation import finish_rotation
from .reads import ReadLog, read_table_for
from .store import MASTER_KEY_SETTING

log = structlog.get_logger(__name__)

OUTBOX = "outbox"

# "check": a conformance check's result (schemas/conformance.py), passed over unrecorded.
Outcome = Literal["recorded", "repeat", "check"]

# Events this process saved and its outbox has not published yet, kept at most: beyond that
# (the bus away for long) the outbox decodes them from the store, as after a restart.
UNPUBLISHED_KEPT = 20_000


@dataclass(frozen=True)
class Erasure:
    """What `erase_citizen` did: the key destroyed and the stored events that quoted it."""

    key_id: str | None
    events: int
    cases: int


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
        self._unpublished: dict[int, Any] = {}

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
        self.citizen_keys = CitizenKeys(store, self._master_key(store))
        assert isinstance(self.mapper, PersonalDataMapper)
        self.mapper.fields = PersonalFields(self.citizen_keys)
        self.access = AccessProjection(self, access_table_for(self.recorder))
        self.reads = ReadLog(read_table_for(self.recorder))
        return ChainedEventStore(self.mapper, self.recorder)

    def _master_key(self, store: KeyStore) -> MasterKey:
        """The configured master key; created only for a ledger that holds no data key yet."""
        path = self.env.get(MASTER_KEY_SETTING)
        if not path:
            if isinstance(store, MemoryKeyStore):
                return MasterKey.generate()  # an in-memory ledger's keys die with it anyway
            raise BadMasterKey(
                f"the ledger needs {MASTER_KEY_SETTING}: the file of the master key that wraps "
                "the citizens' data keys (kept outside the database)"
            )
        existing = store.any_row()
        master = load_master_key(Path(path), create=existing is None)
        if existing is not None and existing.master_key_id != master.key_id:
            if finish_rotation(Path(path), existing.master_key_id):  # a rotation cut short
                return load_master_key(Path(path), create=False)
            raise BadMasterKey(
                f"the ledger's data keys were wrapped by master key {existing.master_key_id}; "
                f"{path} holds {master.key_id}"
            )
        return master

    def construct_recorder(self) -> ProcessRecorder:
        # A process recorder stores tracking records atomically with the events.
        recorder = self.factory.process_recorder()
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    # --- commands ------------------------------------------------------------------------

    def submit_case(self, command: SubmitCase, tracking: Tracking | None = None) -> Outcome:
        batch = self.batch()
        outcome = batch.submit_case(command)
        self.save_batch(batch, tracking)
        return outcome

    def record_step_result(self, result: StepResult, tracking: Tracking | None = None) -> Outcome:
        batch = self.batch()
        outcome = batch.record_step_result(result)
        self.save_batch(batch, tracking)
        return outcome

    def batch(self) -> "CaseBatch":
        """Changes to many cases, made in memory and saved together by `save_batch`."""
        return CaseBatch(self)

    def save_batch(self, batch: "CaseBatch", tracking: Tracking | None) -> None:
        """Every change of the batch and the tracking record in one transaction (one fsync)."""
        self._save(tracking, *batch.changed())

    def expire_overdue(self, case_id: UUID, now: datetime) -> datetime | None:
        """Fail the attempts whose deadline passed and move the case on; the next deadline."""
        case = self._find(case_id)
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
            self._save(None, case)
        return case.next_deadline(proc)

    def is_tracked(self, tracking: Tracking) -> bool:
        """True when the message at this position was already processed (positions only grow)."""
        return self.process_recorder.has_tracking_id(
            tracking.application_name, tracking.notification_id
        )

    def position(self, tracking_name: str) -> int:
        return self.process_recorder.max_tracking_id(tracking_name) or 0

    def stream_position(self, source: str) -> int:
        """How far the ledger has read `source` in the stream it follows now."""
        followed = self.followed_streams.get(source)
        return self.position(followed.tracking_name if followed else source)

    def follow_stream(self, source: str, current: StreamIdentity) -> str:
        """The tracking name to read `current` under; raises `StreamMismatch` when reading it
        from the recorded position could skip messages (see followed_streams)."""
        followed, new = check_stream(
            source, self.followed_streams.get(source), current, self.position
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
        """Destroy the citizen's data key: every value encrypted under it now reads `[erased]`.

        No stored byte changes, so every hash chain and checkpoint still verifies.
        """
        key_id = self.citizen_keys.erase(document_number)
        if key_id is None:
            return Erasure(None, 0, 0)
        self.access.forget(key_id)
        self.reads.forget(key_id)
        quoted = f"{PREFIX}{key_id}.".encode()
        hits = [r.case_id for r in read_records(self.recorder) if quoted in r.state]
        return Erasure(key_id, len(hits), len(set(hits)))

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
        if len(self._unpublished) < UNPUBLISHED_KEPT:
            for recording in recordings:
                self._unpublished[recording.notification.id] = recording.domain_event
        self._notify(recordings)

    def _find(self, case_id: UUID) -> CaseFile | None:
        try:
            case: object = self.repository.get(case_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(case, CaseFile)
        return case

    # --- queries -------------------------------------------------------------------------

    def is_recorded(self, case_id: UUID) -> bool:
        return self._find(case_id) is not None

    def case_view(self, case_id: UUID) -> CaseView:
        case = self._find(case_id)
        if case is None:
            raise CaseNotFound(str(case_id))
        return _view(case, self.catalog[case.procedure])

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
        return _view(case, self.catalog[case.procedure])

    def case_history(self, case_id: UUID) -> CaseHistory:
        events = list(self.events.get(case_id))
        if not events:
            raise CaseNotFound(str(case_id))
        return _history(case_id, events)

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
        return _history(case_id, events).model_copy(
            update={
                "as_of": as_of,
                "version": last,
                "state": _view(case, self.catalog[case.procedure]),
                "received": [_delivery(e) for e in events if hasattr(e, "request")],
            }
        )

    def recorded_event(self, notification: Notification) -> Any:
        """The domain event of a notification: as this process saved it, when it still holds
        it (the outbox then neither decodes nor decrypts what was just written), else decoded
        from the store. On the writer thread, like the saves."""
        event = self._unpublished.pop(notification.id, None)
        return event if event is not None else self.mapper.to_domain_event(notification)

    def notifications_after(self, position: int, limit: int) -> list[Notification]:
        return list(
            self.recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
        )


class CaseBatch:
    """Consecutive messages of one stream applied to the cases they concern, in memory.

    Each case is read once per batch, however many of the batch's messages concern it, and the
    ledger saves all the changes with one tracking record (the last position of the batch): a
    group commit. A message that raises `Unprocessable` has changed nothing: every check comes
    before the case's first new event.
    """

    def __init__(self, ledger: CaseLedger) -> None:
        self.ledger = ledger
        self._cases: dict[UUID, CaseFile | None] = {}

    def changed(self) -> list[CaseFile]:
        return [c for c in self._cases.values() if c is not None]

    def case(self, case_id: UUID) -> CaseFile | None:
        """The case as this batch has changed it so far (None if the batch has not read it)."""
        return self._cases.get(case_id)

    def _find(self, case_id: UUID) -> CaseFile | None:
        if case_id not in self._cases:
            self._cases[case_id] = self.ledger._find(case_id)
        return self._cases[case_id]

    def submit_case(self, command: SubmitCase) -> Outcome:
        proc = self.ledger.catalog.get(command.procedure)
        if proc is None:
            raise Unprocessable(f"unknown procedure {command.procedure!r}")
        case_id = command.envelope.case_id
        existing = self._find(case_id)
        if existing is not None:
            if existing.request_fingerprint not in (command.request_fingerprint, ERASED):
                log.warning("case id reused with another request", case_id=str(case_id))
            return "repeat"
        case = CaseFile(
            case_id=case_id,
            procedure=command.procedure,
            channel=command.envelope.actor.id,
            citizen=command.citizen.model_dump(mode="json"),
            inputs=dict(command.inputs),
            request_fingerprint=command.request_fingerprint,
            actor=command.envelope.actor.model_dump(),
            causation_id=command.envelope.message_id,
            attendance=command.attendance.model_dump(mode="json") if command.attendance else None,
        )
        case.advance(proc)
        self._cases[case_id] = case
        return "recorded"

    def record_step_result(self, result: StepResult) -> Outcome:
        if is_check_case(result.envelope.case_id):
            # `ventanilla adapter check` talking to an adapter: its answers belong to no case,
            # and filing them as dead letters would bury real ones.
            return "check"
        case = self._find(result.envelope.case_id)
        if case is None:
            raise Unprocessable("result for an unknown case")
        _check_result(case, result)
        try:
            fresh = case.record_result(
                result.step_id,
                result.attempt_id,
                result.entity,
                result.outcome,
                result.data,
                result.reason,
                result.expected_by,
            )
        except StepMismatch as exc:
            raise Unprocessable(str(exc)) from None
        if fresh:
            case.advance(self.ledger.catalog[case.procedure])
        return "recorded" if fresh else "repeat"


def _check_result(case: CaseFile, result: StepResult) -> None:
    """A result must answer the service that was asked, in that service's result model."""
    step = case.steps.get(result.step_id)
    if step is not None and step["service"] != result.service:
        raise Unprocessable(
            f"step {result.step_id!r} asked for {step['service']}, not {result.service}"
        )
    if result.outcome != "completed" or (result.entity, result.service) not in SERVICES:
        return
    try:
        SERVICES[(result.entity, result.service)].result.model_validate(result.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Unprocessable(f"invalid {result.service} result: {where}: {first['msg']}") from None


def _view(case: CaseFile, proc: ProcedureSpec) -> CaseView:
    pending = {"status": "pending", "attempts": 0}
    steps = [
        _step_view(
            spec.id,
            case.steps.get(spec.id, {**pending, "entity": spec.entity, "service": spec.service}),
        )
        for spec in proc.steps
    ]
    # Compensations, in the order they were dispatched, after the steps they undo.
    steps += [_step_view(i, step) for i, step in case.steps.items() if step.get("compensates")]
    return CaseView(
        case_id=case.id,
        procedure=case.procedure,
        channel=case.channel,
        status=case.status,
        submitted_at=case.created_on,
        updated_at=case.modified_on,
        version=case.version,
        reason=case.reason,
        steps=steps,
    )


def _delivery(event: Any) -> Delivery:
    return Delivery(
        entity=event.entity,
        step_id=event.step_id,
        service=event.service,
        attempt=event.attempt,
        sent_at=event.timestamp,
        request=dict(event.request),
    )


def _history(case_id: UUID, events: list[Any]) -> CaseHistory:
    entries = [
        HistoryEntry(
            position=e.originator_version,
            type=type(e).__name__,
            occurred_at=e.timestamp,  # every CaseFile event has one
            actor=dict(getattr(e, "actor", {})),
            data=_event_data(e),
            trace_id=trace_of(e),
        )
        for e in events
    ]
    return CaseHistory(case_id=case_id, channel=events[0].channel, events=entries)


def _step_view(step_id: str, step: dict[str, Any]) -> StepView:
    return StepView(
        step_id=step_id,
        entity=step["entity"],
        service=step["service"],
        status=step["status"],
        attempts=step["attempts"],
        dispatched_at=step.get("dispatched_at"),
        finished_at=step.get("finished_at"),
        reason=step.get("reason"),
        expected_by=step.get("expected_by"),
        compensates=step.get("compensates"),
    )


def _event_data(event: Any) -> dict[str, Any]:
    return {k: v for k, v in event.__dict__.items() if k not in ENVELOPE and k != TRACE_ID}
