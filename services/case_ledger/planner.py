"""The procedure planner: given how far a case has got, what happens next.

Pure logic over the catalog: which steps can be dispatched (their dependencies are done, so
independent steps go out together), with which request and which data shared from earlier
steps; whether the case is finished; and, once a step is refused for good, which completed
steps must be undone (compensated) before the case is closed as rejected.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID, uuid5

from pydantic import ValidationError

from schemas.catalog import (
    CitizenFromInput,
    Constant,
    FromCitizen,
    FromInput,
    FromStep,
    ProcedureSpec,
    Source,
    StepSpec,
)
from schemas.entities import contract
from schemas.views import StepStatus

# A step (or compensation) is in flight from its dispatch until its entity's final answer, also
# while the entity has accepted it and will answer later.
IN_FLIGHT: tuple[StepStatus, ...] = ("dispatched", "accepted")


@dataclass(frozen=True)
class StepProgress:
    status: StepStatus
    attempts: int = 0
    result: Mapping[str, Any] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SharedData:
    """One DL 1211 data flow: fields of one entity's result handed to another entity."""

    from_step: str
    from_entity: str
    to_step: str
    to_entity: str
    fields: tuple[str, ...]
    purpose: str
    legal_basis: str


@dataclass(frozen=True)
class Dispatch:
    step_id: str
    entity: str
    service: str
    attempt: int
    attempt_id: UUID
    request: dict[str, Any]
    shared: tuple[SharedData, ...]
    compensates: str | None = None  # the step this dispatch undoes, for a compensation


@dataclass(frozen=True)
class Plan:
    dispatches: tuple[Dispatch, ...] = ()
    outcome: Literal["completed", "rejected"] | None = None
    reason: str | None = None


def attempt_id(case_id: UUID, step_id: str, attempt: int) -> UUID:
    """Deterministic, so re-planning the same state names the same attempt."""
    return uuid5(case_id, f"{step_id}#{attempt}")


def operation_id(case_id: UUID, step_id: str) -> UUID:
    """The back office's idempotency key: one per step, whatever the attempt."""
    return uuid5(case_id, f"{step_id}#operation")


def compensation_id(step_id: str) -> str:
    return f"{step_id}/compensation"


def plan_next(
    proc: ProcedureSpec,
    case_id: UUID,
    citizen: Mapping[str, Any],
    inputs: Mapping[str, Any],
    progress: Mapping[str, StepProgress],
) -> Plan:
    def state(step_id: str) -> StepProgress:
        return progress.get(step_id, StepProgress("pending"))

    case = _CaseData(proc, case_id, citizen, inputs, progress)
    failure = _failure(proc, state)
    if failure is not None:
        return _wind_down(case, failure, state)
    if all(state(s.id).status == "completed" for s in proc.steps):
        return Plan(outcome="completed")

    dispatches: list[Dispatch] = []
    for spec in proc.steps:
        current = state(spec.id)
        ready = all(state(dep).status == "completed" for dep in spec.after)
        if ready and current.status in ("pending", "failed"):
            try:
                dispatches.append(case.dispatch(spec, current.attempts + 1))
            except ValidationError as exc:
                # The catalog is validated at start-up, so this is data no entity can accept.
                return Plan(outcome="rejected", reason=f"invalid request for {spec.id}: {exc}")
    return Plan(dispatches=tuple(dispatches))


def _failure(proc: ProcedureSpec, state: Any) -> str | None:
    """Why the case cannot succeed any more, or None while it still can."""
    for spec in proc.steps:
        current = state(spec.id)
        if current.status == "rejected":
            return f"{spec.entity}: {current.reason}"
        if current.status == "failed" and current.attempts >= spec.max_attempts:
            return (
                f"{spec.entity} did not answer after {current.attempts} attempts ({current.reason})"
            )
    return None


def _wind_down(case: "_CaseData", failure: str, state: Any) -> Plan:
    """Let steps in flight land, undo the completed steps that say how, then reject.

    Undos go one at a time in reverse catalog order (later steps build on earlier ones, so
    they are undone first); one that cannot be done is named in the reason and the next goes.
    """
    proc = case.proc
    if any(state(s.id).status in IN_FLIGHT for s in proc.steps):
        return Plan()
    unresolved: list[str] = []
    for spec in reversed(proc.steps):
        if spec.compensation is None or state(spec.id).status != "completed":
            continue
        undo = state(compensation_id(spec.id))
        if undo.status in IN_FLIGHT:
            return Plan()
        if undo.status == "rejected" or (
            undo.status == "failed" and undo.attempts >= spec.max_attempts
        ):
            unresolved.append(f"{spec.entity} could not undo {spec.id} ({undo.reason})")
        elif undo.status in ("pending", "failed"):
            return Plan(dispatches=(case.compensate(spec, undo.attempts + 1),))
    return Plan(outcome="rejected", reason="; ".join([failure, *unresolved]))


@dataclass(frozen=True)
class _CaseData:
    """Everything a request can be built from."""

    proc: ProcedureSpec
    case_id: UUID
    citizen: Mapping[str, Any]
    inputs: Mapping[str, Any]
    progress: Mapping[str, StepProgress]

    def dispatch(self, spec: StepSpec, attempt: int) -> Dispatch:
        request, shared = self._request(spec, spec.id, spec.service, spec.request, attempt)
        return self._dispatch(spec, spec.id, spec.service, attempt, request, shared, None)

    def compensate(self, spec: StepSpec, attempt: int) -> Dispatch:
        assert spec.compensation is not None
        undo_id = compensation_id(spec.id)
        service = spec.compensation.service
        sources = spec.compensation.request
        request, shared = self._request(spec, undo_id, service, sources, attempt)
        return self._dispatch(spec, undo_id, service, attempt, request, shared, spec.id)

    def _dispatch(
        self,
        spec: StepSpec,
        step_id: str,
        service: str,
        attempt: int,
        request: dict[str, Any],
        shared: tuple[SharedData, ...],
        compensates: str | None,
    ) -> Dispatch:
        return Dispatch(
            step_id=step_id,
            entity=spec.entity,
            service=service,
            attempt=attempt,
            attempt_id=attempt_id(self.case_id, step_id, attempt),
            request=request,
            shared=shared,
            compensates=compensates,
        )

    def _request(
        self,
        spec: StepSpec,
        step_id: str,
        service: str,
        sources: Mapping[str, Source],
        attempt: int,
    ) -> tuple[dict[str, Any], tuple[SharedData, ...]]:
        raw: dict[str, Any] = {
            "case_id": str(self.case_id),
            "operation_id": str(operation_id(self.case_id, step_id)),
            "attempt_id": str(attempt_id(self.case_id, step_id, attempt)),
            "step_id": step_id,
        }
        flows: dict[tuple[str, str, str], list[str]] = {}
        for name, source in sources.items():
            raw[name] = self._value(source)
            if isinstance(source, FromStep):
                flows.setdefault((source.step, source.purpose, source.legal_basis), []).append(
                    source.field
                )
        request = contract(spec.entity, service).request.model_validate(raw)
        shared = tuple(
            SharedData(
                from_step=origin,
                from_entity=self.proc.step(origin).entity,
                to_step=step_id,
                to_entity=spec.entity,
                fields=tuple(fields),
                purpose=purpose,
                legal_basis=basis,
            )
            for (origin, purpose, basis), fields in flows.items()
            # Data an entity passes to itself is not an exchange between institutions.
            if self.proc.step(origin).entity != spec.entity
        )
        return request.model_dump(mode="json"), shared

    def _value(self, source: Source) -> Any:
        if isinstance(source, FromCitizen):
            return dict(self.citizen)
        if isinstance(source, FromInput):
            return self.inputs[source.name]
        if isinstance(source, CitizenFromInput):
            return {"document_type": "DNI", "document_number": self.inputs[source.name]}
        if isinstance(source, Constant):
            return source.value
        result = self.progress[source.step].result or {}
        return result[source.field]
