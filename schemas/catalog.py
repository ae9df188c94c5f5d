"""The procedure catalog's grammar: steps, their dependencies and the data that flows between them.

A procedure is declarative. Each step names an entity's service and says where every field of
that service's request comes from: the citizen, the channel's inputs (a value, or another
citizen named by a DNI among them), a constant, or a field of an earlier step's result. The last
kind is a data flow under DL 1211 and is recorded in the ledger as `DataShared`, with its purpose
and legal basis.

Steps form a DAG: a step waits for the steps in its `after`, and steps that wait for nothing
pending run in parallel. A technical failure is retried up to `max_attempts`; a refusal is final.
A step whose effect must be undone when the case fails later names a `compensation`: a service
of the same entity, dispatched with fields of the step's own result.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from schemas.entities import ENTITIES, SERVICES
from schemas.entities.base import ENVELOPE_FIELDS
from schemas.personal import UnmarkedPersonalField, check_marks

DL_1211 = "DL 1211"


class CatalogError(ValueError):
    """The catalog is inconsistent; the message names the procedure, step and field."""


@dataclass(frozen=True)
class FromCitizen:
    """The case's citizen reference."""


@dataclass(frozen=True)
class FromInput:
    """A field of the inputs the channel submitted."""

    name: str


@dataclass(frozen=True)
class CitizenFromInput:
    """Another citizen of the case (e.g. the seller of a vehicle), by a DNI in the inputs."""

    name: str


@dataclass(frozen=True)
class Constant:
    value: Any


@dataclass(frozen=True)
class FromStep:
    """A field of an earlier step's result, shared from one entity with another."""

    step: str
    field: str
    purpose: str
    legal_basis: str = DL_1211


Source = FromCitizen | FromInput | CitizenFromInput | Constant | FromStep


@dataclass(frozen=True)
class Compensation:
    """How to undo a completed step: a service of the step's own entity."""

    service: str
    request: dict[str, Source]


@dataclass(frozen=True)
class StepSpec:
    id: str
    entity: str
    service: str
    request: dict[str, Source]
    after: tuple[str, ...] = ()
    deadline: timedelta = timedelta(minutes=15)
    max_attempts: int = 3
    compensation: Compensation | None = None


@dataclass(frozen=True)
class ProcedureSpec:
    code: str
    title: str
    description: str
    inputs: type[BaseModel]
    steps: tuple[StepSpec, ...]
    fee_pen: str | None = None
    _by_id: dict[str, StepSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.steps})

    def step(self, step_id: str) -> StepSpec:
        return self._by_id[step_id]

    def ancestors(self, step_id: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.step(step_id).after)
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self.step(current).after)
        return seen


def citizen_inputs(proc: ProcedureSpec) -> frozenset[str]:
    """The inputs that name another citizen of the case (e.g. the seller of a vehicle)."""
    sources = [
        source
        for step in proc.steps
        for request in (step.request, step.compensation.request if step.compensation else {})
        for source in request.values()
    ]
    return frozenset(s.name for s in sources if isinstance(s, CitizenFromInput))


def validate_procedure(proc: ProcedureSpec) -> None:
    where = f"procedure {proc.code!r}"
    ids = [s.id for s in proc.steps]
    if not ids:
        raise CatalogError(f"{where} has no steps")
    if len(set(ids)) != len(ids):
        raise CatalogError(f"{where} declares a step id twice")
    try:
        check_marks(proc.inputs)
    except UnmarkedPersonalField as exc:
        raise CatalogError(f"{where}: inputs: {exc}") from None
    for step in proc.steps:
        _validate_step(proc, step, f"{where}, step {step.id!r}")
    _refuse_cycles(proc)


def _validate_step(proc: ProcedureSpec, step: StepSpec, where: str) -> None:
    if step.entity not in ENTITIES:
        raise CatalogError(f"{where}: unknown entity {step.entity!r}")
    service = SERVICES.get((step.entity, step.service))
    if service is None:
        raise CatalogError(f"{where}: entity {step.entity!r} offers no service {step.service!r}")
    for dep in step.after:
        if dep not in proc._by_id:
            raise CatalogError(f"{where}: depends on unknown step {dep!r}")
    _validate_request_fields(step.request, service.request, step.service, where)
    readable = _ancestors_or_empty(proc, step.id)
    for name, source in step.request.items():
        _validate_source(proc, name, source, readable, where)
    if step.compensation is not None:
        _validate_compensation(proc, step, step.compensation, f"{where}, compensation")


def _validate_request_fields(
    request: dict[str, Source], model: type[BaseModel], service: str, where: str
) -> None:
    fields = model.model_fields
    for name in request:
        if name not in fields or name in ENVELOPE_FIELDS:
            raise CatalogError(f"{where}: request of {service!r} has no field {name!r}")
    for name, info in fields.items():
        if name not in ENVELOPE_FIELDS and info.is_required() and name not in request:
            raise CatalogError(f"{where}: nothing provides required request field {name!r}")


def _validate_compensation(
    proc: ProcedureSpec, step: StepSpec, compensation: Compensation, where: str
) -> None:
    service = SERVICES.get((step.entity, compensation.service))
    if service is None:
        raise CatalogError(
            f"{where}: entity {step.entity!r} offers no service {compensation.service!r}"
        )
    _validate_request_fields(compensation.request, service.request, compensation.service, where)
    # An undo may read the step's own result as well as what the step itself could read.
    readable = {step.id} | _ancestors_or_empty(proc, step.id)
    for name, source in compensation.request.items():
        _validate_source(proc, name, source, readable, where)


def _validate_source(
    proc: ProcedureSpec, name: str, source: Source, readable: set[str], where: str
) -> None:
    if (
        isinstance(source, FromInput | CitizenFromInput)
        and source.name not in proc.inputs.model_fields
    ):
        raise CatalogError(f"{where}: field {name!r} reads unknown input {source.name!r}")
    if isinstance(source, FromStep):
        if source.step not in proc._by_id:
            raise CatalogError(f"{where}: field {name!r} reads unknown step {source.step!r}")
        if source.step not in readable:
            raise CatalogError(
                f"{where}: field {name!r} reads step {source.step!r}, which it does not wait for"
            )
        origin = proc.step(source.step)
        result = SERVICES[(origin.entity, origin.service)].result
        if source.field not in result.model_fields:
            raise CatalogError(
                f"{where}: field {name!r} reads unknown result field "
                f"{source.field!r} of step {source.step!r}"
            )
        if not source.purpose.strip():
            raise CatalogError(f"{where}: data flow into {name!r} names no purpose")


def _ancestors_or_empty(proc: ProcedureSpec, step_id: str) -> set[str]:
    try:
        return proc.ancestors(step_id)
    except (KeyError, RecursionError):
        return set()


def _refuse_cycles(proc: ProcedureSpec) -> None:
    state: dict[str, str] = {}

    def visit(step_id: str, path: tuple[str, ...]) -> None:
        if state.get(step_id) == "done":
            return
        if state.get(step_id) == "visiting":
            cycle = " -> ".join((*path, step_id))
            raise CatalogError(f"procedure {proc.code!r} has a cyclic dependency: {cycle}")
        state[step_id] = "visiting"
        for dep in proc.step(step_id).after:
            visit(dep, (*path, step_id))
        state[step_id] = "done"

    for step in proc.steps:
        visit(step.id, ())


def build_catalog(procedures: tuple[ProcedureSpec, ...]) -> dict[str, ProcedureSpec]:
    """Validate every procedure and index them by code; raises `CatalogError` naming the fault."""
    catalog: dict[str, ProcedureSpec] = {}
    for proc in procedures:
        if proc.code in catalog:
            raise CatalogError(f"procedure {proc.code!r} is declared twice")
        validate_procedure(proc)
        catalog[proc.code] = proc
    return catalog
