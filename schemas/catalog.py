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

Procedures are written as YAML files (docs/catalog.md, `schemas/catalog_files.py`) and checked
by `schemas/catalog_checks.py`; tests build them in Python with the same classes.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

DL_1211 = "DL 1211"


class CatalogError(ValueError):
    """The catalog is inconsistent; the message names every fault, one a line, each with its
    procedure, step and field (and its file and line when the procedure comes from a file)."""

    def __init__(self, faults: list[str]) -> None:
        super().__init__("\n".join(faults))
        self.faults = tuple(faults)


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
    # The service-level agreement (ANS) the deadline comes from.
    agreement: str = ""


@dataclass(frozen=True)
class ProcedureSpec:
    code: str
    title: str
    description: str
    inputs: type[BaseModel]
    steps: tuple[StepSpec, ...]
    fee_pen: str | None = None
    life_event: str = ""
    # Titles in other languages than Spanish, by language code (e.g. "qu").
    titles: dict[str, str] = field(default_factory=dict, compare=False)
    # Valid inputs a channel, the console or the conformance kit can start from.
    input_examples: tuple[dict[str, Any], ...] = ()
    _by_id: dict[str, StepSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.steps})

    def step(self, step_id: str) -> StepSpec:
        return self._by_id[step_id]

    def input_schema(self) -> dict[str, Any]:
        """The JSON Schema of the inputs, with the procedure's examples."""
        schema = self.inputs.model_json_schema()
        if self.input_examples:
            schema["examples"] = [dict(e) for e in self.input_examples]
        return schema

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
    """Raises `CatalogError` naming every fault of the procedure."""
    from schemas.catalog_checks import procedure_faults  # it reads this module's grammar

    faults = procedure_faults(proc)
    if faults:
        raise CatalogError([f.message for f in faults])


def build_catalog(procedures: tuple[ProcedureSpec, ...]) -> dict[str, ProcedureSpec]:
    """Validate every procedure and index them by code; raises `CatalogError` naming every
    fault."""
    from schemas.catalog_checks import procedure_faults  # it reads this module's grammar

    catalog: dict[str, ProcedureSpec] = {}
    faults: list[str] = []
    for proc in procedures:
        if proc.code in catalog:
            faults.append(f"procedure {proc.code!r} is declared twice")
            continue
        faults.extend(f.message for f in procedure_faults(proc))
        catalog[proc.code] = proc
    if faults:
        raise CatalogError(faults)
    return catalog
