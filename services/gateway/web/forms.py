"""A procedure's form, generated from its input JSON Schema, and checked as the API checks it.

The answers are validated by the very model `POST /v1/cases` uses, and its problems are placed
by the same field names the API's problem documents give (`citizen.document_number`,
`inputs.plate`), so a page can never accept what the API refuses, or the reverse.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from schemas.catalog import ProcedureSpec
from schemas.procedures import catalog

from ..problems import FieldProblem
from ..submission import CaseSubmission, submission_body
from ..validation import field_problems
from . import texts
from .i18n import gettext

DNI_FIELD = "citizen.document_number"


@dataclass(frozen=True)
class FormField:
    name: str  # the API's field name: citizen.document_number, inputs.plate
    label: str
    hint: str
    kind: str  # text | choice
    required: bool
    options: tuple[tuple[str, str], ...] = ()
    pattern: str | None = None
    inputmode: str | None = None


@cache
def _submission_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(submission_body(catalog()))


@cache
def input_schema(code: str) -> dict[str, Any]:
    """A procedure's input JSON Schema, built once (pydantic builds it anew on every call)."""
    return catalog()[code].inputs.model_json_schema()


def form_fields(proc: ProcedureSpec) -> list[FormField]:
    schema = input_schema(proc.code)
    required = set(schema.get("required", []))
    fields = [
        FormField(
            DNI_FIELD,
            gettext(texts.DNI.label),
            gettext(texts.DNI.hint),
            "text",
            True,
            pattern=r"\d{8}",
            inputmode="numeric",
        )
    ]
    for name, prop in schema.get("properties", {}).items():
        text = texts.field_text(name)
        choices = _choices(prop, schema)
        if choices:
            labels = dict(text.options)
            options = tuple((value, gettext(labels.get(value, value))) for value in choices)
            kind = "choice"
        else:
            options, kind = (), "text"
        numeric = any(p.get("type") == "number" for p in prop.get("anyOf", [prop]))
        fields.append(
            FormField(
                f"inputs.{name}",
                gettext(text.label),
                gettext(text.hint) if text.hint else str(prop.get("description", "")),
                kind,
                name in required,
                options=options,
                inputmode="decimal" if numeric else None,
            )
        )
    return fields


def _choices(prop: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    if "enum" in prop:
        return [str(v) for v in prop["enum"]]
    ref = prop.get("$ref", "")
    if ref.startswith("#/$defs/"):
        target = schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        return [str(v) for v in target.get("enum", [])]
    return []


def answers_from(form: Mapping[str, str], proc: ProcedureSpec) -> dict[str, str]:
    """The form's answers for this procedure's fields, blanks trimmed and empty ones left out."""
    names = {DNI_FIELD} | {f"inputs.{n}" for n in input_schema(proc.code).get("properties", {})}
    return {k: str(v).strip() for k, v in form.items() if k in names and str(v).strip()}


def body_of(proc: ProcedureSpec, answers: Mapping[str, str]) -> dict[str, Any]:
    """The answers as the JSON body a channel would send to `POST /v1/cases`."""
    inputs = {k.removeprefix("inputs."): v for k, v in answers.items() if k.startswith("inputs.")}
    return {
        "procedure": proc.code,
        "citizen": {"document_type": "DNI", "document_number": answers.get(DNI_FIELD, "")},
        "inputs": inputs,
    }


def validate(
    proc: ProcedureSpec, answers: Mapping[str, str]
) -> tuple[CaseSubmission | None, list[FieldProblem]]:
    """The submission, or the problems the API would report for the same body."""
    try:
        submission = _submission_adapter().validate_python(body_of(proc, answers))
    except ValidationError as exc:
        # Located as FastAPI locates a body's errors, so the API's rules name the same fields.
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        return None, field_problems(errors, tags=tuple(catalog()))
    assert isinstance(submission, CaseSubmission)
    return submission, []


def page_errors(problems: list[FieldProblem]) -> dict[str, str]:
    """Each problem in the page's language, by the field it is about."""
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field == DNI_FIELD or problem.field.startswith("citizen"):
            errors[DNI_FIELD] = gettext(texts.DNI.error)
        elif problem.field.startswith("inputs."):
            name = problem.field.removeprefix("inputs.").split(".")[0]
            text = texts.field_text(name)
            errors[f"inputs.{name}"] = gettext(text.error) if text.error else problem.message
        else:
            errors[problem.field] = problem.message
    return errors


def shown_answer(field: FormField, value: str) -> str:
    """An answer as the check-your-answers page reads it (a choice by its label)."""
    return dict(field.options).get(value, value)
