"""The outbox relay: publishes what the ledger recorded, in ledger order.

It reads the ledger's notification log after its own position and publishes every
`StepDispatched` and `CompensationDispatched` as a request on the entity's work subject, and an
announcement of each case's end (`CaseCompleted`, `CaseRejected`) on the events stream (its
type, position, version; never its data); then it saves the new position. The steps in between
are not announced: whoever follows a case's progress follows the status read model
(status_views.py), which carries all of it in one key per case. A crash in between republishes
with the same `Nats-Msg-Id`s, which the streams drop as duplicates; adapters are idempotent on
the attempt id beyond that window.
"""

import asyncio
from typing import Any
from uuid import UUID, uuid5

import structlog
from eventsourcing.persistence import Notification
from nats.js import JetStreamContext
from opentelemetry.trace import Span

from schemas import subjects
from schemas.event_types import ANNOUNCED_EVENTS, REQUESTING_EVENTS, EventType
from schemas.messages import Actor, Envelope, LedgerEvent, StepRequest
from services.bus.publishing import publish

from .application import OUTBOX, CaseLedger
from .case_traces import CaseTraces
from .domain import LEDGER_ACTOR
from .rounds import keep_following
from .writer import LedgerThread

log = structlog.get_logger(__name__)

LEDGER = Actor.model_validate(LEDGER_ACTOR)  # as the ledger's own events record it

Outgoing = StepRequest | LedgerEvent

CASE_MILESTONES: dict[str, str] = {
    EventType.CASE_SUBMITTED: "case opened",
    EventType.CASE_COMPLETED: "case completed",
    EventType.CASE_REJECTED: "case rejected",
}


class OutboxRelay:
    def __init__(
        self,
        ledger: CaseLedger,
        writer: LedgerThread,
        js: JetStreamContext,
        batch: int = 1000,
        traces: CaseTraces | None = None,
    ) -> None:
        self.ledger = ledger
        self.writer = writer
        self.js = js
        self.batch = batch
        self.traces = traces or CaseTraces()
        self.wake = asyncio.Event()

    def notify(self) -> None:
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        def failed(exc: Exception) -> None:
            log.warning("outbox publish failed", error=repr(exc))

        await keep_following(self.publish_pending, self.batch, self.wake, stop, failed)

    async def publish_pending(self) -> int:
        notifications = await self.writer.run(self._pending)
        if not notifications:
            return 0
        outgoing = [m for n, event in notifications for m in self._outgoing(n, event)]
        headers, dispatches = self._trace_headers(outgoing)
        try:
            # Pipelined: each coroutine writes its message before the next one starts, so one
            # connection keeps the ledger's order; the acks then come back together.
            await asyncio.gather(
                *(
                    publish(self.js, s, m, msg_id=i, headers=h)
                    for (s, m, i), h in zip(outgoing, headers, strict=True)
                )
            )
        finally:
            for span in dispatches:
                span.end()
        await self.writer.run(self.ledger.advance_position, OUTBOX, notifications[-1][0].id)
        _log_cases([event for _, event in notifications], outgoing)
        return len(notifications)

    def _trace_headers(
        self, outgoing: list[tuple[str, Outgoing, str]]
    ) -> tuple[list[dict[str, str]], list[Span]]:
        """Each message's trace headers: a request travels under its own dispatch span."""
        headers: list[dict[str, str]] = []
        dispatches: list[Span] = []
        for _, message, _ in outgoing:
            case_id = message.envelope.case_id
            if isinstance(message, StepRequest):
                span, carrier = self.traces.start_dispatch(
                    case_id, message.entity, message.service, message.attempt
                )
                dispatches.append(span)
                headers.append(carrier)
            else:
                headers.append(self.traces.headers(case_id))
        return headers, dispatches

    def _pending(self) -> list[tuple[Notification, Any]]:
        """What was recorded after the relay's position, with each domain event: one hop to
        the writer thread."""
        pending = self.ledger.notifications_after(self.ledger.position(OUTBOX), self.batch)
        return [(n, self.ledger.recorded_event(n)) for n in pending]

    def _outgoing(self, notification: Notification, event: Any) -> list[tuple[str, Outgoing, str]]:
        """What one recorded event becomes on the bus: (subject, message, Nats-Msg-Id)."""
        event_type = type(event).__name__
        case_id: UUID = event.originator_id
        envelope = Envelope(
            message_id=uuid5(case_id, f"event#{event.originator_version}"),
            case_id=case_id,
            correlation_id=case_id,
            actor=LEDGER,
            occurred_at=event.timestamp,  # every CaseFile event has one
        )
        outgoing: list[tuple[str, Outgoing, str]] = []
        if event_type in REQUESTING_EVENTS:
            outgoing.append(_step_request(envelope, event))
        if event_type not in ANNOUNCED_EVENTS:
            return outgoing
        announcement = LedgerEvent(
            envelope=envelope,
            position=notification.id,
            type=event_type,
            version=event.originator_version,
            step_id=getattr(event, "step_id", None),
        )
        outgoing.append(
            (
                subjects.event(event_type),
                announcement,
                f"event:{case_id}:{event.originator_version}",
            )
        )
        return outgoing


def _log_cases(events: list[Any], outgoing: list[tuple[str, Outgoing, str]]) -> None:
    """A case's opening and its end at INFO; every step at DEBUG (one line a message is too
    much for a hot path at INFO, and the ledger's history has every step anyway)."""
    for event in events:
        milestone = CASE_MILESTONES.get(type(event).__name__)
        if milestone is not None:
            log.info(milestone, case_id=str(event.originator_id))
    for _, message, _ in outgoing:
        if isinstance(message, StepRequest):
            log.debug(
                "step dispatched",
                case_id=str(message.envelope.case_id),
                entity=message.entity,
                service=message.service,
                attempt=message.attempt,
            )


def _step_request(envelope: Envelope, event: Any) -> tuple[str, Outgoing, str]:
    request = StepRequest(
        envelope=envelope,
        step_id=event.step_id,
        attempt=event.attempt,
        attempt_id=event.attempt_id,
        entity=event.entity,
        service=event.service,
        payload=event.request,
    )
    return subjects.work(event.entity, event.service), request, f"request:{event.attempt_id}"
