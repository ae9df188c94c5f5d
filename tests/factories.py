"""Messages as a channel or an entity would send them, for tests at every level, and cases
put on a ledger with them."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from schemas.cases import case_id_for, request_fingerprint
from schemas.event_types import EventType
from schemas.messages import Actor, Envelope, StepOutcome, StepResult, SubmitCase
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from services.datadir import DataDir


def envelope(case_id: UUID, actor: Actor) -> Envelope:
    return Envelope(
        message_id=uuid4(),
        case_id=case_id,
        correlation_id=case_id,
        actor=actor,
        occurred_at=datetime.now(UTC),
    )


def submit_command(
    dni: str,
    *,
    channel: str = "mac-lima-norte",
    key: str | None = None,
    reason: str = "perdida",
    procedure: str = "duplicado-dni",
    inputs: dict[str, Any] | None = None,
) -> SubmitCase:
    case_id = case_id_for(channel, key or str(uuid4()))
    body: dict[str, Any] = {
        "procedure": procedure,
        "citizen": {"document_type": "DNI", "document_number": dni},
        "inputs": {"reason": reason} if inputs is None else inputs,
    }
    return SubmitCase(
        envelope=envelope(case_id, Actor(kind="channel", id=channel)),
        procedure=procedure,
        citizen=body["citizen"],
        inputs=body["inputs"],
        request_fingerprint=request_fingerprint(body),
    )


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


def data_dir_ledger(data_dir: Path) -> CaseLedger:
    """The ledger in a data dir's `ledger/ledger.sqlite`, as `ventanilla up` leaves it."""
    return CaseLedger(catalog(), LedgerStore.sqlite(DataDir(data_dir).ledger_sqlite).environment())


def submit(ledger: CaseLedger, dni: str) -> UUID:
    """A duplicado-dni case submitted straight to a ledger; its id."""
    command = submit_command(dni)
    ledger.submit_case(command)
    return command.envelope.case_id


def answer(ledger: CaseLedger, case_id: UUID, step: str, **outcome: Any) -> None:
    """The step's entity answers its current attempt with `outcome` (a StepResult's fields)."""
    view = ledger.case_view(case_id)
    spec = next(s for s in view.steps if s.step_id == step)
    attempt_id = ledger.repository.get(case_id).steps[step].attempt_id
    ledger.record_step_result(
        StepResult(
            envelope=envelope(case_id, Actor(kind="entity", id=spec.entity)),
            step_id=step,
            attempt_id=attempt_id,
            entity=spec.entity,
            service=spec.service,
            **outcome,
        )
    )


RECEIPT = {"receipt_number": "BN-0001", "amount_pen": "23.40", "paid_at": "2026-11-30T10:00:00Z"}
REFUND = {"refund_number": "BN-DEV-1", "amount_pen": "23.40", "refunded_at": "2026-11-30T11:00:00Z"}
CARD = {"card_serial": "DNI-0001", "pickup_date": "2026-12-07"}

# The history of a duplicado-dni case that went through without a hitch.
COMPLETED_HISTORY = [
    EventType.CASE_SUBMITTED,
    EventType.STEP_DISPATCHED,
    EventType.STEP_COMPLETED,
    EventType.DATA_SHARED,
    EventType.STEP_DISPATCHED,
    EventType.STEP_COMPLETED,
    EventType.CASE_COMPLETED,
]


TRANSFER = {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000}


def run_case(ledger: Any, command: SubmitCase, attempts: int = 4) -> UUID:
    """Submit a case and answer each step it dispatches, in process, with the reference
    entities' own handlers and fake back offices (as their adapters would), until it ends.

    `ledger` is a CaseLedger; a back office's transient failure is retried, as the SDK does.
    """
    import asyncio

    from services.entity_adapters.backoffices.effects import EffectLog
    from services.entity_adapters.registry import entity_packages
    from services.entity_adapters.sdk import Accepted, StepRefused

    position = ledger.recorder.max_notification_id() or 0
    ledger.submit_case(command)
    case_id = command.envelope.case_id
    offices = {
        entity: (package.adapter, package.back_office(EffectLog()))
        for entity, package in entity_packages().items()
    }
    while True:
        notifications = ledger.notifications_after(position, 1000)
        if not notifications:
            return case_id
        for notification in notifications:
            position = notification.id
            event = ledger.mapper.to_domain_event(notification)
            if event.originator_id != case_id or type(event).__name__ not in (
                EventType.STEP_DISPATCHED,
                EventType.COMPENSATION_DISPATCHED,
            ):
                continue
            adapter, office = offices[event.entity]
            bound = adapter.handler(event.service)
            typed = bound.contract.request.model_validate(event.request)
            outcome: StepOutcome = "failed"
            data: dict[str, Any] = {}
            reason: str | None = "no answer"
            for _ in range(attempts):
                try:
                    result = asyncio.run(bound.call(typed, office))
                except StepRefused as exc:
                    outcome, data, reason = "rejected", {}, exc.reason
                    break
                except Exception as exc:  # transient: the SDK would redeliver
                    reason = type(exc).__name__
                    continue
                if isinstance(result, Accepted):
                    raise NotImplementedError("run_case answers at once: no deferred answers")
                outcome, data, reason = "completed", result.model_dump(mode="json"), None
                break
            ledger.record_step_result(
                step_result(
                    case_id,
                    event.step_id,
                    event.attempt_id,
                    event.entity,
                    event.service,
                    outcome=outcome,
                    data=data,
                    reason=reason,
                )
            )
