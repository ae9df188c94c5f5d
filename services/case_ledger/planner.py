"""The procedure planner: given how far a case has got, what happens next.

Pure logic over the catalog: which steps can be dispatched (their dependencies are done), with
which request and which data shared from earlier steps; or whether the case is finished.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID, uuid5

from pydantic import ValidationError

from schemas.catalog import Constant, FromCitizen, FromInput, FromStep, ProcedureSpec, StepSpec
from schemas.entities import contract
from schemas.views import StepStatus


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


@dataclass(frozen=True)
class Plan:
    dispatches: tuple[Dispatch, ...] = ()
    outcome: Literal["completed", "rejected"] | None = None
    reason: str | None = None


def attempt_id(case_id: UUID, step_id: str, attempt: int) -> UUID:
    """Deterministic, so re-planning the same state names the same attempt."""
    return uuid5(case_id, f"{step_id}#{attempt}")


def plan_next(
    proc: ProcedureSpec,
    case_id: UUID,
    citizen: Mapping[str, Any],
    inputs: Mapping[str, Any],
    progress: Mapping[str, StepProgress],
) -> Plan:
    def state(step_id: str) -> StepProgress:
        return progress.get(step_id, StepProgress("pending"))

    for spec in proc.steps:
        current = state(spec.id)
        if current.status == "rejected":
            return Plan(outcome="rejected", reason=f"{spec.entity}: {current.reason}")
        if current.status == "failed" and current.attempts >= spec.max_attempts:
            return Plan(
                outcome="rejected",
                reason=f"{spec.entity} did not answer after {current.attempts} attempts "
                f"({current.reason})",
            )
    if all(state(s.id).status == "completed" for s in proc.steps):
        return Plan(outcome="completed")

    dispatches: list[Dispatch] = []
    for spec in proc.steps:
        current = state(spec.id)
        ready = all(state(dep).status == "completed" for dep in spec.after)
        if ready and current.status in ("pending", "failed"):
            attempt = current.attempts + 1
            try:
                dispatches.append(
                    _dispatch(proc, spec, case_id, attempt, citizen, inputs, progress)
                )
            except ValidationError as exc:
                # The catalog is validated at start-up, so this is data no entity can accept.
                return Plan(outcome="rejected", reason=f"invalid request for {spec.id}: {exc}")
    return Plan(dispatches=tuple(dispatches))


def _dispatch(
    proc: ProcedureSpec,
    spec: StepSpec,
    case_id: UUID,
    attempt: int,
    citizen: Mapping[str, Any],
    inputs: Mapping[str, Any],
    progress: Mapping[str, StepProgress],
) -> Dispatch:
    the_attempt = attempt_id(case_id, spec.id, attempt)
    raw: dict[str, Any] = {"case_id": str(case_id), "attempt_id": str(the_attempt)}
    flows: dict[tuple[str, str, str], list[str]] = {}
    for name, source in spec.request.items():
        if isinstance(source, FromCitizen):
            raw[name] = dict(citizen)
        elif isinstance(source, FromInput):
            raw[name] = inputs[source.name]
        elif isinstance(source, Constant):
            raw[name] = source.value
        elif isinstance(source, FromStep):
            result = progress[source.step].result or {}
            raw[name] = result[source.field]
            flows.setdefault((source.step, source.purpose, source.legal_basis), []).append(
                source.field
            )
    request = contract(spec.entity, spec.service).request.model_validate(raw)
    shared = tuple(
        SharedData(
            from_step=step,
            from_entity=proc.step(step).entity,
            to_step=spec.id,
            to_entity=spec.entity,
            fields=tuple(fields),
            purpose=purpose,
            legal_basis=basis,
        )
        for (step, purpose, basis), fields in flows.items()
    )
    return Dispatch(
        step_id=spec.id,
        entity=spec.entity,
        service=spec.service,
        attempt=attempt,
        attempt_id=the_attempt,
        request=request.model_dump(mode="json"),
        shared=shared,
    )
