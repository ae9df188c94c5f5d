"""The case file: one citizen case as an event-sourced aggregate.

Public methods check the rules and decide; the `@event` methods only change state, so replaying
the stored events rebuilds exactly the same case.

Over 300 lines because eventsourcing wants every event method on the aggregate class: the
decisions and the state changes they record stay together; the step's own state is CaseStep.
"""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from schemas.catalog import ProcedureSpec
from schemas.event_types import EventType
from schemas.messages import StepOutcome
from schemas.views import CaseStatus, StepStatus

from .case_step import CaseStep
from .planner import Dispatch, Plan, SharedData, StepProgress, plan_next
from .planner import attempt_id as planned_attempt_id

LEDGER_ACTOR = {"kind": "ledger", "id": "case-ledger"}

# What a personal value reads as once its citizen's key was destroyed (Ley 29733).
ERASED = "[erased]"
ERASED_REASON = (
    "closed: the citizen's personal data was erased (Ley 29733) while the case was in progress; "
    "no further step or compensation was sent"
)


class StepMismatch(ValueError):
    """A result names a step or entity this case does not have."""


class CaseFile(Aggregate):
    class CaseSubmitted(Aggregate.Created):
        """Version 2 added `causation_id`: the SubmitCase message that opened the case; version 3
        `attendance`: the clerk, the delegation and the citizen's consent at a counter."""

        class_version = 3
        case_id: UUID
        procedure: str
        channel: str
        citizen: dict[str, Any]
        inputs: dict[str, Any]
        request_fingerprint: str
        actor: dict[str, str]
        causation_id: UUID | None
        attendance: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["causation_id"] = None  # cases opened before it was recorded

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["attendance"] = None  # cases opened before counters recorded it

    @staticmethod
    def create_id(case_id: UUID, **_: Any) -> UUID:
        # The id comes from the business key (channel + idempotency key), see schemas.
        return case_id

    @event(CaseSubmitted)
    def __init__(
        self,
        case_id: UUID,
        procedure: str,
        channel: str,
        citizen: dict[str, Any],
        inputs: dict[str, Any],
        request_fingerprint: str,
        actor: dict[str, str],
        causation_id: UUID | None = None,
        attendance: dict[str, Any] | None = None,
    ) -> None:
        self.procedure = procedure
        self.channel = channel
        self.citizen = dict(citizen)
        self.inputs = dict(inputs)
        self.request_fingerprint = request_fingerprint
        self.causation_id = causation_id
        self.attendance = attendance
        self.status: CaseStatus = "submitted"
        self.reason: str | None = None
        self.steps: dict[str, CaseStep] = {}

    # --- decisions -------------------------------------------------------------------------

    @property
    def is_final(self) -> bool:
        return self.status in ("completed", "rejected")

    def progress(self) -> dict[str, StepProgress]:
        return {
            step_id: StepProgress(
                status=step.status,
                attempts=step.attempts,
                result=step.result,
                reason=step.reason,
            )
            for step_id, step in self.steps.items()
        }

    @property
    def holds_erased_data(self) -> bool:
        """Some personal value this case works with was erased: no request can be built."""
        results = [step.result or {} for step in self.steps.values()]
        return any(
            value == ERASED
            for values in (self.citizen, self.inputs, *results)
            for value in values.values()
        )

    def subject_of(self, step_id: str) -> str | None:
        """The DNI of the citizen a step is about (whose data its result holds)."""
        step = self.steps.get(step_id)
        subject = step.subject if step else None
        return subject or self.citizen.get("document_number")

    def advance(self, proc: ProcedureSpec) -> Plan:
        """Dispatch whatever is ready and close the case when nothing is left to do.

        A case whose citizen's data was erased cannot go on (every request names a citizen):
        unless every step is done, it is closed as rejected, without compensations, which would
        need that data too.
        """
        if self.is_final:
            return Plan()
        finished = all(
            s.id in self.steps and self.steps[s.id].status == "completed" for s in proc.steps
        )
        if self.holds_erased_data and not finished:
            self._case_rejected(reason=ERASED_REASON, actor=LEDGER_ACTOR)
            return Plan(outcome="rejected", reason=ERASED_REASON)
        plan = plan_next(proc, self.id, self.citizen, self.inputs, self.progress())
        for dispatch in plan.dispatches:
            for shared in dispatch.shared:
                self._share(shared)
            self._dispatch(dispatch)
        if plan.outcome == "completed":
            self._case_completed(actor=LEDGER_ACTOR)
        elif plan.outcome == "rejected":
            self._case_rejected(reason=plan.reason or "rejected", actor=LEDGER_ACTOR)
        return plan

    def record_result(
        self,
        step_id: str,
        attempt_id: UUID,
        entity: str,
        outcome: StepOutcome,
        data: dict[str, Any],
        reason: str | None,
        expected_by: datetime | None = None,
    ) -> bool:
        """Record an entity's answer; False when it is a repeat of something already recorded.

        The rule for answers, the same for every answer, immediate or deferred: an answer counts
        only while the case is open and waits on that very attempt (dispatched, or accepted by
        the entity). A final answer to an attempt that stopped counting (its deadline passed, or
        the case was closed) is recorded once as `StepAnsweredLate` and changes nothing else;
        an `accepted` that comes too late is dropped. A repeat of a recorded answer changes
        nothing and records nothing.
        """
        step = self.steps.get(step_id)
        if step is None:
            raise StepMismatch(f"case has no dispatched step {step_id!r}")
        if step.entity != entity:
            raise StepMismatch(f"step {step_id!r} belongs to {step.entity}, not {entity}")
        actor = {"kind": "entity", "id": entity}
        awaited = not self.is_final and step.attempt_id == attempt_id and step.in_flight
        if outcome == "accepted":
            if not awaited or step.status == "accepted" or expected_by is None:
                return False  # a repeat, or too late: only final answers are kept when late
            self._step_accepted(
                step_id=step_id, attempt_id=attempt_id, expected_by=expected_by, actor=actor
            )
            return True
        if not awaited:
            if attempt_id in step.answered or not self._was_attempt(step_id, attempt_id):
                return False  # a redelivered answer, already recorded (or never asked for)
            self._step_answered_late(
                step_id=step_id,
                attempt_id=attempt_id,
                outcome=outcome,
                result=dict(data),
                reason=reason,
                actor=actor,
            )
            return True
        if step.compensates:
            self._record_compensation(step_id, attempt_id, outcome, data, reason, actor)
        elif outcome == "completed":
            self._step_completed(step_id=step_id, attempt_id=attempt_id, result=data, actor=actor)
        elif outcome == "rejected":
            self._step_rejected(
                step_id=step_id, attempt_id=attempt_id, reason=reason or "", actor=actor
            )
        else:
            self._step_attempt_failed(
                step_id=step_id, attempt_id=attempt_id, reason=reason or "", actor=actor
            )
        return True

    def overdue_steps(self, proc: ProcedureSpec, now: datetime) -> list[str]:
        """Steps (or compensations) in flight whose entity's deadline (ANS) has passed.

        An accepted step is still in flight: its deadline, counted from its dispatch, covers
        the entity's final answer, whatever `expected_by` it gave.
        """
        return [
            step_id
            for step_id, step in self.steps.items()
            if step.in_flight and now >= self._due(proc, step_id, step)
        ]

    def next_deadline(self, proc: ProcedureSpec) -> datetime | None:
        due = [
            self._due(proc, step_id, step) for step_id, step in self.steps.items() if step.in_flight
        ]
        return min(due, default=None)

    def expire(self, step_id: str, reason: str) -> None:
        """The entity did not answer in time: this attempt counts as failed, a new one may go."""
        step = self.steps[step_id]
        self._step_overdue(
            step_id=step_id,
            attempt_id=step.attempt_id,
            reason=reason,
            actor=dict(LEDGER_ACTOR),
        )

    def deadline_of(self, proc: ProcedureSpec, step_id: str) -> timedelta:
        """The entity's deadline (ANS) for a step; a compensation has its step's."""
        return proc.step(self.steps[step_id].compensates or step_id).deadline

    def _was_attempt(self, step_id: str, attempt_id: UUID) -> bool:
        """Whether the ledger ever dispatched this attempt of the step."""
        attempts = range(1, self.steps[step_id].attempts + 1)
        return any(planned_attempt_id(self.id, step_id, n) == attempt_id for n in attempts)

    def _due(self, proc: ProcedureSpec, step_id: str, step: CaseStep) -> datetime:
        return step.dispatched_at + self.deadline_of(proc, step_id)

    def _record_compensation(
        self,
        step_id: str,
        attempt_id: UUID,
        outcome: StepOutcome,
        data: dict[str, Any],
        reason: str | None,
        actor: dict[str, str],
    ) -> None:
        if outcome == "completed":
            self._compensation_completed(
                step_id=step_id, attempt_id=attempt_id, result=data, actor=actor
            )
        elif outcome == "rejected":
            self._compensation_rejected(
                step_id=step_id, attempt_id=attempt_id, reason=reason or "", actor=actor
            )
        else:
            self._compensation_attempt_failed(
                step_id=step_id, attempt_id=attempt_id, reason=reason or "", actor=actor
            )

    def _dispatch(self, dispatch: Dispatch) -> None:
        if dispatch.compensates is not None:
            self._compensation_dispatched(
                step_id=dispatch.step_id,
                compensates=dispatch.compensates,
                entity=dispatch.entity,
                service=dispatch.service,
                attempt=dispatch.attempt,
                attempt_id=dispatch.attempt_id,
                request=dispatch.request,
                actor=LEDGER_ACTOR,
            )
            return
        self._step_dispatched(
            step_id=dispatch.step_id,
            entity=dispatch.entity,
            service=dispatch.service,
            attempt=dispatch.attempt,
            attempt_id=dispatch.attempt_id,
            request=dispatch.request,
            actor=LEDGER_ACTOR,
        )

    def _share(self, shared: SharedData) -> None:
        self._data_shared(
            from_step=shared.from_step,
            from_entity=shared.from_entity,
            to_step=shared.to_step,
            to_entity=shared.to_entity,
            fields=list(shared.fields),
            purpose=shared.purpose,
            legal_basis=shared.legal_basis,
            actor=LEDGER_ACTOR,
        )

    # --- state changes ---------------------------------------------------------------------

    @event(EventType.STEP_DISPATCHED.value)
    def _step_dispatched(
        self,
        step_id: str,
        entity: str,
        service: str,
        attempt: int,
        attempt_id: UUID,
        request: dict[str, Any],
        actor: dict[str, str],
    ) -> None:
        self._open(step_id, entity, service, attempt, attempt_id, None, request)

    @event(EventType.COMPENSATION_DISPATCHED.value)
    def _compensation_dispatched(
        self,
        step_id: str,
        compensates: str,
        entity: str,
        service: str,
        attempt: int,
        attempt_id: UUID,
        request: dict[str, Any],
        actor: dict[str, str],
    ) -> None:
        self._open(step_id, entity, service, attempt, attempt_id, compensates, request)

    @event(EventType.COMPENSATION_COMPLETED.value)
    def _compensation_completed(
        self, step_id: str, attempt_id: UUID, result: dict[str, Any], actor: dict[str, str]
    ) -> None:
        self._finish(step_id, "completed", result=dict(result))

    @event(EventType.COMPENSATION_REJECTED.value)
    def _compensation_rejected(
        self, step_id: str, attempt_id: UUID, reason: str, actor: dict[str, str]
    ) -> None:
        self._finish(step_id, "rejected", reason=reason)

    @event(EventType.COMPENSATION_ATTEMPT_FAILED.value)
    def _compensation_attempt_failed(
        self, step_id: str, attempt_id: UUID, reason: str, actor: dict[str, str]
    ) -> None:
        self._finish(step_id, "failed", reason=reason)

    @event(EventType.DATA_SHARED.value)
    def _data_shared(
        self,
        from_step: str,
        from_entity: str,
        to_step: str,
        to_entity: str,
        fields: list[str],
        purpose: str,
        legal_basis: str,
        actor: dict[str, str],
    ) -> None:
        pass  # a record for the citizen's access log; it changes nothing in the case

    @event(EventType.STEP_COMPLETED.value)
    def _step_completed(
        self, step_id: str, attempt_id: UUID, result: dict[str, Any], actor: dict[str, str]
    ) -> None:
        self._finish(step_id, "completed", result=dict(result))

    @event(EventType.STEP_REJECTED.value)
    def _step_rejected(
        self, step_id: str, attempt_id: UUID, reason: str, actor: dict[str, str]
    ) -> None:
        self._finish(step_id, "rejected", reason=reason)

    @event(EventType.STEP_OVERDUE.value)
    def _step_overdue(
        self, step_id: str, attempt_id: UUID, reason: str, actor: dict[str, str]
    ) -> None:
        # For a step or a compensation alike: the attempt counts as failed, a new one may go.
        self._finish(step_id, "failed", reason=reason, answered=False)

    @event(EventType.STEP_ACCEPTED.value)
    def _step_accepted(
        self, step_id: str, attempt_id: UUID, expected_by: datetime, actor: dict[str, str]
    ) -> None:
        # For a step or a compensation alike: still in flight, now waiting for a final answer.
        self.steps[step_id].accept(expected_by)

    @event(EventType.STEP_ANSWERED_LATE.value)
    def _step_answered_late(
        self,
        step_id: str,
        attempt_id: UUID,
        outcome: str,
        result: dict[str, Any],
        reason: str | None,
        actor: dict[str, str],
    ) -> None:
        # Kept for the record (what the entity did after all); the case goes on as decided.
        self.steps[step_id].answered_late(attempt_id)

    @event(EventType.STEP_ATTEMPT_FAILED.value)
    def _step_attempt_failed(
        self, step_id: str, attempt_id: UUID, reason: str, actor: dict[str, str]
    ) -> None:
        self._finish(step_id, "failed", reason=reason)

    @event(EventType.CASE_COMPLETED.value)
    def _case_completed(self, actor: dict[str, str]) -> None:
        self.status = "completed"

    @event(EventType.CASE_REJECTED.value)
    def _case_rejected(self, reason: str, actor: dict[str, str]) -> None:
        self.status = "rejected"
        self.reason = reason

    def _open(
        self,
        step_id: str,
        entity: str,
        service: str,
        attempt: int,
        attempt_id: UUID,
        compensates: str | None,
        request: dict[str, Any],
    ) -> None:
        self.status = "in_progress"
        citizen = request.get("citizen")
        self.steps[step_id] = CaseStep.open(
            self.steps.get(step_id),
            entity=entity,
            service=service,
            attempt=attempt,
            attempt_id=attempt_id,
            at=self.modified_on,
            compensates=compensates,
            subject=citizen.get("document_number") if isinstance(citizen, dict) else None,
        )

    def _finish(
        self,
        step_id: str,
        status: StepStatus,
        *,
        result: dict[str, Any] | None = None,
        reason: str | None = None,
        answered: bool = True,
    ) -> None:
        self.steps[step_id].finish(
            status, self.modified_on, result=result, reason=reason, answered=answered
        )
