"""What makes a procedure unworkable, found all at once.

Each fault carries a path into the procedure (`("steps", 2, "request", "plate")`), so that a
procedure read from a file can name the line the fault sits on; the message itself names the
procedure, the step and the field.
"""

from dataclasses import dataclass

from pydantic import BaseModel

from schemas.catalog import (
    CitizenFromInput,
    Compensation,
    FromInput,
    FromStep,
    ProcedureSpec,
    Source,
    StepSpec,
)
from schemas.entities import ENTITIES, SERVICES
from schemas.entities.base import ENVELOPE_FIELDS
from schemas.personal import UnmarkedPersonalField, check_marks

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Fault:
    path: Path
    message: str


def procedure_faults(proc: ProcedureSpec, *, check_inputs: bool = True) -> list[Fault]:
    """Every fault of `proc`; `check_inputs=False` when its inputs model could not be loaded."""
    return _Checks(proc, check_inputs).run()


class _Checks:
    def __init__(self, proc: ProcedureSpec, check_inputs: bool) -> None:
        self.proc = proc
        self.check_inputs = check_inputs
        self.faults: list[Fault] = []
        self.ids = {s.id for s in proc.steps}

    def fault(self, path: Path, where: str, text: str) -> None:
        self.faults.append(Fault(path, f"{where}: {text}"))

    def run(self) -> list[Fault]:
        proc = self.proc
        where = f"procedure {proc.code!r}"
        ids = [s.id for s in proc.steps]
        if not ids:
            self.faults.append(Fault(("steps",), f"{where} has no steps"))
        if len(set(ids)) != len(ids):
            self.faults.append(Fault(("steps",), f"{where} declares a step id twice"))
        if self.check_inputs:
            try:
                check_marks(proc.inputs)
            except UnmarkedPersonalField as exc:
                self.fault(("inputs",), where, f"inputs: {exc}")
        for index, step in enumerate(proc.steps):
            self.step(("steps", index), step, f"{where}, step {step.id!r}")
        self.cycles()
        return self.faults

    def step(self, path: Path, step: StepSpec, where: str) -> None:
        for dep in step.after:
            if dep not in self.ids:
                self.fault((*path, "after"), where, f"depends on unknown step {dep!r}")
        if step.max_attempts < 1:
            self.fault((*path, "max_attempts"), where, "max_attempts must be at least 1")
        if step.entity not in ENTITIES:
            self.fault((*path, "entity"), where, f"unknown entity {step.entity!r}")
            return
        service = SERVICES.get((step.entity, step.service))
        if service is None:
            self.fault(
                (*path, "service"),
                where,
                f"entity {step.entity!r} offers no service {step.service!r}",
            )
            return
        request = (*path, "request")
        self.request_fields(request, step.request, service.request, step.service, where)
        readable = self.ancestors(step.id)
        for name, source in step.request.items():
            self.source((*request, name), name, source, readable, where)
        if step.compensation is not None:
            self.compensation(
                (*path, "compensation"), step, step.compensation, f"{where}, compensation"
            )

    def request_fields(
        self,
        path: Path,
        request: dict[str, Source],
        model: type[BaseModel],
        service: str,
        where: str,
    ) -> None:
        fields = model.model_fields
        for name in request:
            if name not in fields or name in ENVELOPE_FIELDS:
                self.fault((*path, name), where, f"request of {service!r} has no field {name!r}")
        for name, info in fields.items():
            if name not in ENVELOPE_FIELDS and info.is_required() and name not in request:
                self.fault(path, where, f"nothing provides required request field {name!r}")

    def compensation(
        self, path: Path, step: StepSpec, compensation: Compensation, where: str
    ) -> None:
        service = SERVICES.get((step.entity, compensation.service))
        if service is None:
            self.fault(
                (*path, "service"),
                where,
                f"entity {step.entity!r} offers no service {compensation.service!r}",
            )
            return
        request = (*path, "request")
        self.request_fields(
            request, compensation.request, service.request, compensation.service, where
        )
        # An undo may read the step's own result as well as what the step itself could read.
        readable = {step.id} | self.ancestors(step.id)
        for name, source in compensation.request.items():
            self.source((*request, name), name, source, readable, where)

    def source(self, path: Path, name: str, source: Source, readable: set[str], where: str) -> None:
        proc = self.proc
        if (
            self.check_inputs
            and isinstance(source, FromInput | CitizenFromInput)
            and source.name not in proc.inputs.model_fields
        ):
            self.fault(path, where, f"field {name!r} reads unknown input {source.name!r}")
        if not isinstance(source, FromStep):
            return
        if source.step not in self.ids:
            self.fault(path, where, f"field {name!r} reads unknown step {source.step!r}")
            return
        if source.step not in readable:
            self.fault(
                path,
                where,
                f"field {name!r} reads step {source.step!r}, which it does not wait for",
            )
        origin = proc.step(source.step)
        contract = SERVICES.get((origin.entity, origin.service))
        if contract is not None and source.field not in contract.result.model_fields:
            self.fault(
                path,
                where,
                f"field {name!r} reads unknown result field {source.field!r} "
                f"of step {source.step!r}",
            )
        if not source.purpose.strip():
            self.fault(path, where, f"data flow into {name!r} names no purpose")
        if not source.legal_basis.strip():
            self.fault(path, where, f"data flow into {name!r} names no legal basis")

    def ancestors(self, step_id: str) -> set[str]:
        seen: set[str] = set()
        todo = [d for d in self.proc.step(step_id).after if d in self.ids]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(d for d in self.proc.step(current).after if d in self.ids)
        return seen

    def cycles(self) -> None:
        state: dict[str, str] = {}
        index = {s.id: i for i, s in enumerate(self.proc.steps)}
        reported: set[frozenset[str]] = set()

        def visit(step_id: str, path: tuple[str, ...]) -> None:
            if state.get(step_id) == "done":
                return
            if state.get(step_id) == "visiting":
                loop = path[path.index(step_id) :]
                if frozenset(loop) not in reported:
                    reported.add(frozenset(loop))
                    cycle = " -> ".join((*loop, step_id))
                    self.faults.append(
                        Fault(
                            ("steps", index[step_id], "after"),
                            f"procedure {self.proc.code!r} has a cyclic dependency: {cycle}",
                        )
                    )
                return
            state[step_id] = "visiting"
            for dep in self.proc.step(step_id).after:
                if dep in self.ids:
                    visit(dep, (*path, step_id))
            state[step_id] = "done"

        for step in self.proc.steps:
            visit(step.id, ())
