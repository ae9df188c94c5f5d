"""Procedure files: one YAML file per procedure, read into the catalog's grammar (docs/catalog.md).

The reader walks PyYAML's node tree rather than the plain data, so that every fault (an unknown
key, a bad duration, a missing legal basis, a field the service does not have) names the file and
line it sits on. It does not stop at the first fault: a file's faults are all collected, and the
checks of `schemas.catalog_checks` run on whatever could be read.
"""

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from schemas.catalog import (
    CitizenFromInput,
    Compensation,
    Constant,
    FromCitizen,
    FromInput,
    FromStep,
    ProcedureSpec,
    Source,
    StepSpec,
)
from schemas.catalog_checks import procedure_faults
from schemas.life_events import LIFE_EVENT_GROUPS

PROCEDURE_KEYS = {
    *("code", "title", "titles", "description", "life_event", "fee_pen", "inputs", "steps"),
}
STEP_KEYS = {
    *("id", "entity", "service", "after", "request", "deadline", "max_attempts", "compensation"),
}
SOURCE_KEYS = {
    "citizen": set(),
    "input": {"name"},
    "citizen-from-input": {"name"},
    "constant": {"value"},
    "step": {"step", "field", "purpose", "legal_basis"},
}
DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
DEFAULT_MAX_ATTEMPTS = 3


class _EmptyInputs(BaseModel):
    """Stands in for an inputs model that could not be loaded, so the steps are still checked."""


@dataclass
class ProcedureFile:
    """What one file gave: the procedure (None when it could not be read) and its faults."""

    path: Path
    procedure: ProcedureSpec | None
    faults: list[str]
    code_line: int = 1


@dataclass
class _Reader:
    path: Path
    found: list[tuple[int, str]] = field(default_factory=list)
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)
    # The file's position of each step the procedure got (a step that cannot be read is left
    # out of the procedure, which shifts the later ones).
    step_index: list[int] = field(default_factory=list)

    def fault(self, node: Node | int, text: str) -> None:
        line = node if isinstance(node, int) else node.start_mark.line + 1
        self.found.append((line, f"{self.path}:{line}: {text}"))

    @property
    def faults(self) -> list[str]:
        """In the order of the file's lines."""
        return [text for _, text in sorted(self.found, key=lambda f: f[0])]

    def line_of(self, path: tuple[str | int, ...]) -> int:
        """The line of the deepest part of `path` the file holds."""
        if len(path) > 1 and path[0] == "steps" and isinstance(path[1], int):
            path = ("steps", self.step_index[path[1]], *path[2:])
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def mapping(
        self,
        node: Node,
        what: str,
        allowed: set[str],
        required: set[str],
        at: tuple[str | int, ...] | None,
    ) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.fault(node, f"{what} must be a mapping")
            return None
        found: dict[str, Node] = {}
        for key_node, value in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.fault(key_node, f"{what}: keys must be names")
            elif key in found:
                self.fault(key_node, f"{what}: key {key!r} is given twice")
            elif key not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                self.fault(key_node, f"{what}: unknown key {key!r} (known: {known})")
            else:
                found[key] = value
                if at is not None:
                    self.lines[(*at, key)] = key_node.start_mark.line + 1
        for key in sorted(required - set(found)):
            self.fault(node, f"{what}: missing key {key!r}")
        return found

    def text(self, node: Node | None, what: str) -> str | None:
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or not isinstance(_value(node), str):
            self.fault(node, f"{what} must be a text")
            return None
        text: str = node.value
        if not text.strip():
            self.fault(node, f"{what} must not be empty")
            return None
        return text


def _value(node: Node) -> Any:
    return SafeConstructor().construct_object(node, deep=True)


def yaml_texts(folder: Path, faults: list[str]) -> Iterator[tuple[Path, str]]:
    """Each `*.yaml` file of `folder`, in name order, with its text; one it cannot read is a
    fault, and the others are still read."""
    for path in sorted(folder.glob("*.yaml")):
        if not path.is_file():
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            faults.append(f"{path}: cannot be read: {exc}")


def read_procedure(path: Path, text: str) -> ProcedureFile:
    reader = _Reader(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reader.fault(line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return ProcedureFile(path, None, reader.faults)
    if root is None:
        reader.fault(1, "the file is empty")
        return ProcedureFile(path, None, reader.faults)
    try:
        proc, check_inputs = _procedure(reader, root)
    except yaml.YAMLError as exc:  # a tag the safe loader refuses, e.g. !!python/object
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or exc
        reader.fault(mark.line + 1 if mark is not None else 1, f"cannot be read: {problem}")
        return ProcedureFile(path, None, reader.faults)
    if proc is not None:
        for fault in procedure_faults(proc, check_inputs=check_inputs):
            reader.fault(reader.line_of(fault.path), fault.message)
    return ProcedureFile(path, proc, reader.faults, reader.lines.get(("code",), 1))


def _procedure(r: _Reader, root: Node) -> tuple[ProcedureSpec | None, bool]:
    keys = r.mapping(
        root, "procedure", PROCEDURE_KEYS, PROCEDURE_KEYS - {"titles", "fee_pen"}, at=()
    )
    if keys is None:
        return None, False
    code = r.text(keys.get("code"), "code")
    title = r.text(keys.get("title"), "title")
    description = r.text(keys.get("description"), "description")
    life_event = r.text(keys.get("life_event"), "life_event")
    if life_event is not None and life_event not in LIFE_EVENT_GROUPS:
        r.fault(
            keys["life_event"],
            f"unknown life event {life_event!r} (known: {', '.join(LIFE_EVENT_GROUPS)})",
        )
    titles = _titles(r, keys.get("titles"))
    fee = _fee(r, keys.get("fee_pen"))
    inputs, examples = _inputs(r, keys.get("inputs"))
    steps = _steps(r, keys.get("steps"))
    if code is None or steps is None:
        return None, False
    proc = ProcedureSpec(
        code=code,
        title=title or code,
        description=description or "",
        inputs=inputs or _EmptyInputs,
        steps=steps,
        fee_pen=fee,
        life_event=life_event or "",
        titles=titles,
        input_examples=examples,
    )
    return proc, inputs is not None


def _titles(r: _Reader, node: Node | None) -> dict[str, str]:
    if node is None:
        return {}
    if not isinstance(node, MappingNode):
        r.fault(node, "titles must map a language code to a title")
        return {}
    titles: dict[str, str] = {}
    for key_node, value in node.value:
        title = r.text(value, f"titles: {key_node.value}")
        if title is not None:
            titles[str(key_node.value)] = title
    return titles


def _fee(r: _Reader, node: Node | None) -> str | None:
    if node is None:
        return None
    if not isinstance(node, ScalarNode) or not isinstance(_value(node), str):
        r.fault(node, 'fee_pen must be a quoted decimal amount, e.g. "23.40"')
        return None
    try:
        amount = Decimal(node.value)
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount <= 0:
        r.fault(node, f"fee_pen {node.value!r} is not a positive amount in soles")
        return None
    return str(node.value)


def _inputs(
    r: _Reader, node: Node | None
) -> tuple[type[BaseModel] | None, tuple[dict[str, Any], ...]]:
    if node is None:
        return None, ()
    keys = r.mapping(node, "inputs", {"model", "examples"}, {"model", "examples"}, at=("inputs",))
    if keys is None:
        return None, ()
    model = _model(r, keys.get("model"))
    examples_node = keys.get("examples")
    if examples_node is None:
        return model, ()
    if not isinstance(examples_node, SequenceNode) or not examples_node.value:
        r.fault(examples_node, "inputs: examples must be a list of at least one example")
        return model, ()
    examples: list[dict[str, Any]] = []
    for number, item in enumerate(examples_node.value, start=1):
        example = _value(item)
        if not isinstance(example, dict):
            r.fault(item, f"inputs: example {number} must be a mapping of input fields")
            continue
        if model is not None:
            try:
                model.model_validate(example)
            except ValidationError as exc:
                for error in exc.errors():
                    where = ".".join(str(p) for p in error["loc"]) or "(inputs)"
                    r.fault(item, f"inputs: example {number} is invalid: {where}: {error['msg']}")
        examples.append(example)
    return model, tuple(examples)


def _model(r: _Reader, node: Node | None) -> type[BaseModel] | None:
    ref = r.text(node, "inputs: model")
    if ref is None or node is None:
        return None
    module_name, sep, name = ref.partition(":")
    if not sep or not module_name or not name:
        r.fault(node, f"inputs: model {ref!r} must be written module:Model")
        return None
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        r.fault(node, f"inputs: model {ref!r}: cannot import {module_name!r}: {exc}")
        return None
    model = getattr(module, name, None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        r.fault(node, f"inputs: model {ref!r}: {module_name} has no pydantic model {name!r}")
        return None
    return model


def _steps(r: _Reader, node: Node | None) -> tuple[StepSpec, ...] | None:
    if node is None:
        return None
    if not isinstance(node, SequenceNode):
        r.fault(node, "steps must be a list of steps")
        return None
    steps = []
    for index, item in enumerate(node.value):
        r.lines[("steps", index)] = item.start_mark.line + 1
        step = _step(r, item, index)
        if step is not None:
            steps.append(step)
            r.step_index.append(index)
    return tuple(steps)


def _step(r: _Reader, node: Node, index: int) -> StepSpec | None:
    at = ("steps", index)
    keys = r.mapping(
        node,
        f"step {index + 1}",
        STEP_KEYS,
        STEP_KEYS - {"after", "max_attempts", "compensation"},
        at=at,
    )
    if keys is None:
        return None
    step_id = r.text(keys.get("id"), f"step {index + 1}: id")
    what = f"step {step_id or index + 1!r}"
    entity = r.text(keys.get("entity"), f"{what}: entity")
    service = r.text(keys.get("service"), f"{what}: service")
    after = _names(r, keys.get("after"), f"{what}: after")
    request = _request(r, keys.get("request"), what, (*at, "request"))
    deadline, agreement = _deadline(r, keys.get("deadline"), what)
    attempts = _attempts(r, keys.get("max_attempts"), what)
    compensation = _compensation(r, keys.get("compensation"), what, (*at, "compensation"))
    if step_id is None or entity is None or service is None or request is None:
        return None
    return StepSpec(
        id=step_id,
        entity=entity,
        service=service,
        request=request,
        after=after,
        deadline=deadline,
        agreement=agreement,
        max_attempts=attempts,
        compensation=compensation,
    )


def _names(r: _Reader, node: Node | None, what: str) -> tuple[str, ...]:
    if node is None:
        return ()
    if not isinstance(node, SequenceNode):
        r.fault(node, f"{what} must be a list of step ids")
        return ()
    return tuple(name for item in node.value if (name := r.text(item, what)) is not None)


def _deadline(r: _Reader, node: Node | None, what: str) -> tuple[timedelta, str]:
    fallback = StepSpec.__dataclass_fields__["deadline"].default
    assert isinstance(fallback, timedelta)
    if node is None:
        return fallback, ""
    keys = r.mapping(
        node, f"{what}: deadline", {"within", "agreement"}, {"within", "agreement"}, at=None
    )
    if keys is None:
        return fallback, ""
    agreement = r.text(keys.get("agreement"), f"{what}: deadline: agreement") or ""
    within = keys.get("within")
    if within is None:
        return fallback, agreement
    return _duration(r, within, f"{what}: deadline: within") or fallback, agreement


def _duration(r: _Reader, node: Node, what: str) -> timedelta | None:
    text = node.value if isinstance(node, ScalarNode) else None
    match = DURATION.fullmatch(text) if isinstance(text, str) and text else None
    if match is None:
        r.fault(node, f"{what}: {text!r} is not a duration such as 90s, 30m, 1h30m or 2d")
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        r.fault(node, f"{what}: a deadline must be longer than zero")
        return None
    return duration


def _attempts(r: _Reader, node: Node | None, what: str) -> int:
    if node is None:
        return DEFAULT_MAX_ATTEMPTS
    value = _value(node) if isinstance(node, ScalarNode) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        r.fault(node, f"{what}: max_attempts must be a whole number of at least 1")
        return DEFAULT_MAX_ATTEMPTS
    return value


def _compensation(
    r: _Reader, node: Node | None, what: str, at: tuple[str | int, ...]
) -> Compensation | None:
    if node is None:
        return None
    where = f"{what}: compensation"
    keys = r.mapping(node, where, {"service", "request"}, {"service", "request"}, at=at)
    if keys is None:
        return None
    service = r.text(keys.get("service"), f"{where}: service")
    request = _request(r, keys.get("request"), where, (*at, "request"))
    if service is None or request is None:
        return None
    return Compensation(service=service, request=request)


def _request(
    r: _Reader, node: Node | None, what: str, at: tuple[str | int, ...]
) -> dict[str, Source] | None:
    if node is None:
        return None
    if not isinstance(node, MappingNode):
        r.fault(node, f"{what}: request must map each request field to its source")
        return None
    request: dict[str, Source] = {}
    for key_node, value in node.value:
        name = str(key_node.value)
        if name in request:
            r.fault(key_node, f"{what}: request field {name!r} is given twice")
            continue
        r.lines[(*at, name)] = key_node.start_mark.line + 1
        # A source that cannot be read still provides its field, so that the checks do not
        # also report it as missing.
        request[name] = _source(r, value, f"{what}: request field {name!r}") or Constant(None)
    return request


def _source(r: _Reader, node: Node, what: str) -> Source | None:
    kinds = ", ".join(SOURCE_KEYS)
    if not isinstance(node, MappingNode):
        r.fault(node, f"{what}: a source is a mapping with 'from' ({kinds})")
        return None
    kind_node = next((v for k, v in node.value if getattr(k, "value", None) == "from"), None)
    kind = kind_node.value if isinstance(kind_node, ScalarNode) else None
    if kind not in SOURCE_KEYS:
        r.fault(kind_node or node, f"{what}: 'from' must be one of {kinds}")
        return None
    fields = SOURCE_KEYS[kind] | {"from"}
    # A data flow without a legal basis is still read, so that the checks name that fault
    # along with any other of the flow.
    required = fields - {"legal_basis"}
    keys = r.mapping(node, what, fields, required, at=None)
    if keys is None or not required <= set(keys):
        return None
    if kind == "citizen":
        return FromCitizen()
    if kind == "constant":
        return Constant(_value(keys["value"]))
    if kind in ("input", "citizen-from-input"):
        name = r.text(keys["name"], f"{what}: name")
        if name is None:
            return None
        return FromInput(name) if kind == "input" else CitizenFromInput(name)
    step = r.text(keys["step"], f"{what}: step")
    field_name = r.text(keys["field"], f"{what}: field")
    purpose = r.text(keys["purpose"], f"{what}: purpose")
    basis = keys.get("legal_basis")
    legal_basis = "" if basis is None else r.text(basis, f"{what}: legal_basis")
    if step is None or field_name is None or purpose is None or legal_basis is None:
        return None
    return FromStep(step, field_name, purpose=purpose, legal_basis=legal_basis)
