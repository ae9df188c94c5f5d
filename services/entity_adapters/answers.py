"""Publishing an entity's final answer to a step it accepted earlier (a deferred answer).

Usable from the entity's adapter process or from any process holding the entity's NATS
credentials: an answer is one publish on the entity's own result subject, which its bus user
may already use (services/bus/permissions.py), and nothing else. The ledger takes it like any
answer: it counts while the case waits on that attempt, it is recorded as late once the attempt
stopped counting, and a repeat changes nothing.

Message ids: an `accepted` result is published as `accepted:<attempt id>`, every other result of
an attempt (immediate or deferred) as `result:<attempt id>`. The two never collide in the
stream's duplicate window, and a final answer published twice (a retry, two processes) is
stored once; beyond the window the ledger recognises the repeat.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from nats.js import JetStreamContext
from nats.js.api import PubAck
from pydantic import BaseModel, ConfigDict

from schemas import subjects
from schemas.entities import SERVICES
from schemas.entities.base import ServiceRequest, ServiceResult
from schemas.messages import Actor, Envelope, StepOutcome, StepResult
from services.bus.publishing import publish

from .deferred import Refused

log = structlog.get_logger(__name__)

FinalAnswer = ServiceResult | Refused


class AnswerTo(BaseModel):
    """Where a deferred answer goes: the attempt of a case's step that the entity accepted.

    A back office keeps it (as `reference()`, an opaque string) beside the work it took, and
    gives it back with its answer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID
    step_id: str
    attempt_id: UUID
    service: str

    @classmethod
    def of(cls, request: ServiceRequest) -> "AnswerTo":
        service = next(c.service for c in SERVICES.values() if isinstance(request, c.request))
        return cls(
            case_id=request.case_id,
            step_id=request.step_id,
            attempt_id=request.attempt_id,
            service=service,
        )

    def reference(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_reference(cls, reference: str) -> "AnswerTo":
        return cls.model_validate_json(reference)


def message_id(attempt_id: UUID, outcome: StepOutcome) -> str:
    """The `Nats-Msg-Id` of an attempt's result: one for `accepted`, one for the answer."""
    return f"{'accepted' if outcome == 'accepted' else 'result'}:{attempt_id}"


async def answer(
    js: JetStreamContext,
    entity: str,
    to: AnswerTo,
    final: FinalAnswer,
    *,
    give_up_after: float = 60.0,
) -> PubAck:
    """Publish the final answer; returns once the results stream stored it (or had it).

    Retries with the same message id until acknowledged; raises after `give_up_after` s.
    """
    contract = SERVICES.get((entity, to.service))
    if contract is None:
        raise ValueError(f"{entity} offers no service {to.service!r}")
    if isinstance(final, Refused):
        outcome: StepOutcome = "rejected"
        data, reason = {}, final.reason
    elif isinstance(final, contract.result):
        outcome, data, reason = "completed", final.model_dump(mode="json"), None
    else:
        raise TypeError(
            f"{to.service} answers {contract.result.__name__}, not {type(final).__name__}"
        )
    result = StepResult(
        envelope=Envelope(
            message_id=uuid4(),
            case_id=to.case_id,
            correlation_id=to.case_id,
            actor=Actor(kind="entity", id=entity),
            occurred_at=datetime.now(UTC),
        ),
        step_id=to.step_id,
        attempt_id=to.attempt_id,
        entity=entity,
        service=to.service,
        outcome=outcome,
        data=data,
        reason=reason,
    )
    ack = await publish(
        js,
        subjects.result(entity, to.service, to.case_id),
        result,
        msg_id=message_id(to.attempt_id, outcome),
        give_up_after=give_up_after,
    )
    log.info("deferred answer published", case_id=str(to.case_id), service=to.service)
    return ack


Answerer = Callable[[AnswerTo, FinalAnswer], Awaitable[object]]
# An entity's way to find the answers its back office has ready and hand each to `Answerer`;
# it returns how many it answered. It must tell the back office only after the answer is
# published, so an answer is never lost (at worst published twice, which the bus drops).
AnswerDueWork = Callable[[Any, Answerer], Awaitable[int]]


async def keep_answering(
    answer_due: AnswerDueWork,
    back_office: Any,
    js: JetStreamContext,
    entity: str,
    stop: asyncio.Event,
    interval: float = 1.0,
) -> None:
    """Until `stop`: every `interval` seconds, publish the answers the back office has ready."""

    async def publish_answer(to: AnswerTo, final: FinalAnswer) -> PubAck:
        return await answer(js, entity, to, final)

    while not stop.is_set():
        try:
            answered = await answer_due(back_office, publish_answer)
            if answered:
                log.info("deferred answers sent", entity=entity, answers=answered)
        except Exception as exc:  # the back office or the bus is away: look again next round
            log.warning("deferred answers unavailable", entity=entity, error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
