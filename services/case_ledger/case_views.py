"""The read side of a case: its view now or at a version, and its history as recorded.

Pure functions of a `CaseFile` (or its events) and the procedure it follows; the ledger
application and its readers call them, and nothing here touches the store.
"""

from typing import Any
from uuid import UUID

from schemas.catalog import ProcedureSpec
from schemas.views import CaseHistory, CaseView, Delivery, HistoryEntry, StepView

from .case_step import CaseStep
from .domain import CaseFile
from .event_traces import TRACE_ID, trace_of
from .personal.fields import ENVELOPE


def case_view_of(case: CaseFile, proc: ProcedureSpec) -> CaseView:
    steps = [
        step_view_of(spec.id, case.steps[spec.id])
        if spec.id in case.steps
        else StepView(
            step_id=spec.id, entity=spec.entity, service=spec.service, status="pending", attempts=0
        )
        for spec in proc.steps
    ]
    # Compensations, in the order they were dispatched, after the steps they undo.
    steps += [step_view_of(i, step) for i, step in case.steps.items() if step.compensates]
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


def delivery_of(event: Any) -> Delivery:
    return Delivery(
        entity=event.entity,
        step_id=event.step_id,
        service=event.service,
        attempt=event.attempt,
        sent_at=event.timestamp,
        request=dict(event.request),
    )


def history_of(case_id: UUID, events: list[Any]) -> CaseHistory:
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


def step_view_of(step_id: str, step: CaseStep) -> StepView:
    return StepView(
        step_id=step_id,
        entity=step.entity,
        service=step.service,
        status=step.status,
        attempts=step.attempts,
        dispatched_at=step.dispatched_at,
        finished_at=step.finished_at,
        reason=step.reason,
        expected_by=step.expected_by,
        compensates=step.compensates,
    )


def _event_data(event: Any) -> dict[str, Any]:
    return {k: v for k, v in event.__dict__.items() if k not in ENVELOPE and k != TRACE_ID}
