"""The case bus on a real NATS: an idempotency claim in JetStream KV, the SubmitCase command on
JetStream, a case's status from the ledger's status bucket (KV), and questions to the ledger over
request/reply.

The claim is made with KV `create`, which is atomic: of two concurrent submissions with the same
Idempotency-Key exactly one wins. The command is published after every successful or repeated
claim with the same `Nats-Msg-Id`, so a gateway that crashed between claim and publish is
repaired by the client's retry, and a repeat costs nothing (the server or the ledger drops it).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import nats.errors
from nats.aio.client import Client
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas import subjects
from schemas.cases import submit_msg_id
from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.entities import ENTITIES
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.messages import SubmitCase
from schemas.queries import (
    AccessLogAnswer,
    AccessLogQuery,
    BundleAnswer,
    BundleQuery,
    CaseAnswer,
    CaseQuery,
    HistoryAnswer,
    PingAnswer,
    ReadContext,
    ReadNotice,
    ReadRecorded,
    VerifyAnswer,
    VerifyQuery,
)
from schemas.sla import SlaQuery, SlaReport
from schemas.views import (
    BusOverview,
    CaseHistory,
    CaseView,
    CitizenAccessLog,
    EntityQueue,
    StreamLevel,
)
from services.bus.publishing import publish
from services.bus.tracing import tracer
from services.observability.bus_state import dead_letters_by_source
from services.observability.indicator_views import with_dead_letters

from .case_bus import (
    Claim,
    DependencyUnavailable,
    IdempotencyConflict,
    SubmitOutcome,
    claim_of,
    submitted_history,
    submitted_view,
)
from .status_kv import read_view

A = TypeVar("A", bound=BaseModel)
# Verifying reads the whole ledger, an export every event of it: longer than a status query.
AUDIT_QUERY_TIMEOUT = 30.0
# Events per history reply: about 450 bytes each, well under NATS's 1 MB reply.
HISTORY_CHUNK = 1000
_CLAIM_VALUE = TypeAdapter(dict[str, Any])  # a claim as stored: a JSON object without its case id


def claim_value(claim: Claim) -> bytes:
    """A claim as the idempotency bucket stores it: without its case id, which the key holds."""
    return claim.model_dump_json(exclude={"case_id"}).encode()


def stored_claim(case_id: UUID, value: bytes) -> Claim:
    """The claim stored under `case_id`'s key; `DependencyUnavailable` when unreadable."""
    try:
        return Claim.model_validate({**_CLAIM_VALUE.validate_json(value), "case_id": case_id})
    except ValidationError:
        raise DependencyUnavailable("nats", "unreadable idempotency claim") from None


def claim_key(case_id: UUID) -> str:
    return f"case.{case_id.hex}"


class NatsCaseBus:
    def __init__(
        self,
        nc: Client,
        *,
        query_timeout: float = 2.0,
        ping_timeout: float = 1.0,
        publish_timeout: float = 2.0,
        publish_give_up_after: float = 5.0,
        history_chunk: int = HISTORY_CHUNK,
    ) -> None:
        self.history_chunk = history_chunk
        self.nc = nc
        self.js = nc.jetstream()
        self.query_timeout = query_timeout
        self.ping_timeout = ping_timeout
        self.publish_timeout = publish_timeout
        self.publish_give_up_after = publish_give_up_after
        self._buckets: dict[str, KeyValue] = {}

    async def submit(self, command: SubmitCase) -> SubmitOutcome:
        claim = claim_of(command)
        with tracer().start_as_current_span(
            "gateway submit-case",
            attributes={
                "ventanilla.case_id": str(claim.case_id),
                "ventanilla.channel": claim.channel,
            },
        ):
            outcome = await self._claim(claim)
            with _nats_errors():
                await publish(
                    self.js,
                    subjects.submit_case(claim.channel),
                    command,
                    msg_id=submit_msg_id(claim.case_id),
                    ack_timeout=self.publish_timeout,
                    give_up_after=self.publish_give_up_after,
                )
        return outcome

    async def case(self, case_id: UUID) -> CaseView | None:
        """From the status bucket; while the ledger has not written it yet, the channel's claim
        (`submitted`); the ledger is asked only when neither is there (a case older than the
        bucket or the claim's week, or no such case)."""
        self._require_connection()
        with _nats_errors():
            view = await read_view(await self._bucket(subjects.STATUS_BUCKET), case_id)
        if view is not None:
            return view
        claim = await self._existing_claim(case_id)
        if claim is not None:
            return submitted_view(claim)
        answer = await self._ask(subjects.LEDGER_QUERY_CASE, CaseQuery(case_id=case_id), CaseAnswer)
        return answer.case if answer.found else None

    async def history(
        self,
        case_id: UUID,
        *,
        as_of: datetime | None = None,
        version: int | None = None,
        read: ReadContext | None = None,
    ) -> CaseHistory | None:
        replay = as_of is not None or version is not None
        query = CaseQuery(
            case_id=case_id,
            as_of=as_of,
            version=version,
            read=read,
            limit=None if replay else self.history_chunk,
        )
        answer = await self._ask(subjects.LEDGER_QUERY_HISTORY, query, HistoryAnswer)
        if answer.found and answer.history is not None:
            return await self._rest_of(answer) if answer.more else answer.history
        if read is not None and read.refused:
            return None  # recorded; nothing to show
        if as_of is not None or version is not None:
            return None  # a replay of a case the ledger has not recorded (yet, or then)
        claim = await self._existing_claim(case_id)
        return submitted_history(claim) if claim else None

    async def _rest_of(self, first: HistoryAnswer) -> CaseHistory:
        """The later chunks of a long history (the read was recorded with the first)."""
        assert first.history is not None
        history, events, more = first.history, list(first.history.events), first.more
        while more and events:
            query = CaseQuery(
                case_id=history.case_id, after=events[-1].position, limit=self.history_chunk
            )
            answer = await self._ask(subjects.LEDGER_QUERY_HISTORY, query, HistoryAnswer)
            if answer.history is None:
                break
            events += answer.history.events
            more = answer.more
        return history.model_copy(update={"events": events})

    async def access_log(
        self, document_number: str, *, read: ReadContext | None = None
    ) -> CitizenAccessLog:
        query = AccessLogQuery(document_number=document_number, read=read)
        answer = await self._ask(subjects.LEDGER_QUERY_ACCESS_LOG, query, AccessLogAnswer)
        return answer.log

    async def overview(self) -> BusOverview:
        self._require_connection()
        with _nats_errors():
            entities = []
            for entity in ENTITIES:
                info = await self.js.consumer_info(
                    subjects.WORK_STREAM, subjects.adapter_consumer(entity)
                )
                entities.append(
                    EntityQueue(
                        entity=entity,
                        waiting=info.num_pending or 0,
                        in_hand=info.num_ack_pending or 0,
                        redelivered=info.num_redelivered or 0,
                    )
                )
            levels = [
                StreamLevel(stream=name, messages=(await self.js.stream_info(name)).state.messages)
                for name in subjects.OBSERVED_STREAMS
            ]
        dead = {level.stream: level.messages for level in levels}[subjects.DEAD_LETTERS_STREAM]
        return BusOverview(entities=entities, streams=levels, dead_letters=dead)

    async def ping(self) -> None:
        self._require_connection()
        answer = await self._request(subjects.LEDGER_PING, b"", PingAnswer, self.ping_timeout)
        if answer.status != "ok":
            raise DependencyUnavailable("ledger", answer.detail or "not ready")

    # --- idempotency claims --------------------------------------------------------------

    async def _claim(self, claim: Claim) -> SubmitOutcome:
        kv = await self._bucket()
        # Two attempts: a claim may expire (bucket TTL) between our create and our read.
        for _ in range(2):
            with _nats_errors():
                try:
                    await kv.create(claim_key(claim.case_id), claim_value(claim))
                    return "accepted"
                except KeyWrongLastSequenceError:
                    pass
            existing = await self._existing_claim(claim.case_id)
            if existing is None:
                continue
            if existing.fingerprint != claim.fingerprint or existing.channel != claim.channel:
                raise IdempotencyConflict(claim.case_id)
            return "repeat"
        raise DependencyUnavailable("nats", "idempotency claim kept changing")

    async def _existing_claim(self, case_id: UUID) -> Claim | None:
        kv = await self._bucket()
        with _nats_errors():
            try:
                entry = await kv.get(claim_key(case_id))
            except KeyNotFoundError:
                return None
        return stored_claim(case_id, entry.value or b"")

    async def _bucket(self, name: str = subjects.IDEMPOTENCY_BUCKET) -> KeyValue:
        self._require_connection()
        if name not in self._buckets:
            with _nats_errors():
                self._buckets[name] = await self.js.key_value(name)
        return self._buckets[name]

    # --- ledger questions ----------------------------------------------------------------

    async def sla(self, query: SlaQuery) -> SlaReport:
        return await self._ask(subjects.LEDGER_QUERY_SLA, query, SlaReport)

    async def record_read(self, case_id: UUID, read: ReadContext) -> int:
        notice = ReadNotice(case_id=case_id, read=read)
        answer = await self._ask(subjects.LEDGER_RECORD_READ, notice, ReadRecorded)
        return answer.citizens

    async def indicators(self, query: IndicatorsQuery) -> IndicatorsReport:
        report = await self._ask(subjects.LEDGER_QUERY_INDICATORS, query, IndicatorsReport)
        with _nats_errors():
            letters = await dead_letters_by_source(self.js)
        return with_dead_letters(report, letters)

    async def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        return await self._ask(subjects.LEDGER_QUERY_DEAD_LETTERS, query, DeadLetterList)

    async def redrive(self, request: RedriveRequest) -> RedriveAnswer:
        # Each letter is a publish and an acknowledgement: give many of them the time they need.
        return await self._ask(subjects.LEDGER_REDRIVE, request, RedriveAnswer, 10.0)

    async def verify(self) -> VerifyAnswer:
        return await self._ask(
            subjects.LEDGER_QUERY_VERIFY, VerifyQuery(), VerifyAnswer, AUDIT_QUERY_TIMEOUT
        )

    async def bundle(self, case_id: UUID, read: ReadContext) -> BundleAnswer:
        query = BundleQuery(case_id=case_id, read=read)
        return await self._ask(
            subjects.LEDGER_QUERY_BUNDLE, query, BundleAnswer, AUDIT_QUERY_TIMEOUT
        )

    async def _ask(
        self, subject: str, query: BaseModel, answer: type[A], wait: float | None = None
    ) -> A:
        self._require_connection()
        return await self._request(
            subject, query.model_dump_json().encode(), answer, wait or self.query_timeout
        )

    async def _request(self, subject: str, data: bytes, answer: type[A], wait: float) -> A:
        try:
            reply = await self.nc.request(subject, data, timeout=wait)
        except nats.errors.NoRespondersError:
            raise DependencyUnavailable("ledger", "no ledger is listening") from None
        except (TimeoutError, nats.errors.TimeoutError):
            raise DependencyUnavailable("ledger", "the ledger did not answer in time") from None
        except nats.errors.Error as exc:
            raise DependencyUnavailable("nats", type(exc).__name__) from None
        try:
            return answer.model_validate_json(reply.data)
        except ValidationError:
            raise DependencyUnavailable("ledger", "unreadable answer from the ledger") from None

    def _require_connection(self) -> None:
        # A disconnected client buffers and waits; a caller at a counter should not.
        if not self.nc.is_connected:
            raise DependencyUnavailable("nats", "not connected to NATS")


@contextmanager
def _nats_errors() -> Iterator[None]:
    try:
        yield
    except (TimeoutError, nats.errors.Error) as exc:
        raise DependencyUnavailable("nats", type(exc).__name__) from None
