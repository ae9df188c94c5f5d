"""Messages as a channel or an entity sends them: a SubmitCase from a DNI, a StepResult, and what
the reference back offices answer. The SubmitCase is made as the gateway makes it."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from schemas.messages import Actor, Envelope, StepOutcome, StepResult, SubmitCase
from services.gateway.submission import command_for

CHANNEL = "mac-lima-norte"

RECEIPT = {"receipt_number": "BN-0001", "amount_pen": "23.40", "paid_at": "2026-11-30T10:00:00Z"}
REFUND = {"refund_number": "BN-DEV-1", "amount_pen": "23.40", "refunded_at": "2026-11-30T11:00:00Z"}
CARD = {"card_serial": "DNI-0001", "pickup_date": "2026-12-07"}


def envelope(case_id: UUID, actor: Actor) -> Envelope:
    return Envelope(
        message_id=uuid4(),
        case_id=case_id,
        correlation_id=case_id,
        actor=actor,
        occurred_at=datetime.now(UTC),
    )


def case_body(
    dni: str, procedure: str = "duplicado-dni", inputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A `POST /v1/cases` body for the citizen with DNI `dni` (a duplicado-dni by default)."""
    return {
        "procedure": procedure,
        "citizen": {"document_type": "DNI", "document_number": dni},
        "inputs": {"reason": "perdida"} if inputs is None else inputs,
    }


def submit_command(
    dni: str,
    *,
    channel: str = CHANNEL,
    key: str | None = None,
    reason: str = "perdida",
    procedure: str = "duplicado-dni",
    inputs: dict[str, Any] | None = None,
) -> SubmitCase:
    """The command the gateway publishes for `dni`'s case (a fresh key unless given one)."""
    body = case_body(dni, procedure, {"reason": reason} if inputs is None else inputs)
    return command_for(body, channel, key or str(uuid4()))


def step_result(
    case_id: UUID,
    step_id: str,
    attempt_id: UUID,
    entity: str,
    service: str,
    outcome: StepOutcome = "completed",
    data: dict[str, Any] | None = None,
    reason: str | None = None,
) -> StepResult:
    return StepResult(
        envelope=envelope(case_id, Actor(kind="entity", id=entity)),
        step_id=step_id,
        attempt_id=attempt_id,
        entity=entity,
        service=service,
        outcome=outcome,
        data=data or {},
        reason=reason,
    )
