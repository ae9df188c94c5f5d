"""Validation errors in words a counter clerk understands, one per field.

Pydantic's own messages speak to programmers ("String should match pattern '^[0-9]{8}$'"); the
clerk at a Centro MAC counter needs "The DNI number must have exactly 8 digits." Values the
caller sent are never repeated back or logged: they may be personal data.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .json_body import REPEATED_KEY
from .problems import FieldProblem

# Whatever is wrong with these fields, the fix is the same.
FIELD_RULES = {
    "citizen.document_number": "The DNI number must have exactly 8 digits.",
    "citizen.document_type": 'The document type must be "DNI", the only document accepted for now.',
    "header.idempotency-key": (
        "The Idempotency-Key header must be 1 to 200 printable characters "
        "(letters, digits, punctuation), e.g. a UUID the channel generates for this request."
    ),
    "path.case_id": "The case id is not valid: it must be a UUID as returned when submitting.",
}

LABELS = {
    "body": "The request body",
    "procedure": "The procedure",
    "citizen": "The citizen",
    "citizen.document_type": "The document type",
    "citizen.document_number": "The DNI number",
    "inputs": "The inputs",
    "header.idempotency-key": "The Idempotency-Key header",
    "header.authorization": "The Authorization header",
}

BODY_SHAPE = (
    'The request body must be a JSON object with "procedure", "citizen" and "inputs", '
    'e.g. {"procedure": "duplicado-dni", "citizen": {"document_type": "DNI", '
    '"document_number": "40000001"}, "inputs": {"reason": "perdida"}}.'
)


def field_problems(
    errors: Iterable[Mapping[str, Any]], *, tags: Sequence[str] = ()
) -> list[FieldProblem]:
    """One problem per field, in the order found; `tags` are union tags to drop from locations."""
    problems: dict[str, FieldProblem] = {}
    for error in errors:
        field = _field(error.get("loc", ()), tags)
        if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            field = "procedure"  # the body is told apart by `procedure`; its error sits on the body
        if field not in problems:
            problems[field] = FieldProblem(field=field, message=_message(field, error))
    return list(problems.values())


def summary(problems: Sequence[FieldProblem]) -> str:
    if len(problems) == 1:
        return problems[0].message
    return f"The request has {len(problems)} problems: " + " ".join(p.message for p in problems)


def _field(loc: Sequence[Any], tags: Sequence[str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
        if parts and parts[0] in tags:
            parts = parts[1:]
        return ".".join(parts) or "body"
    if parts and parts[0] in ("header", "path", "query"):
        return ".".join(parts[:1] + [p.lower() if parts[0] == "header" else p for p in parts[1:]])
    return ".".join(parts) or "body"


def _message(field: str, error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    label = _label(field)
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    if kind == REPEATED_KEY:
        return f"{label} is given twice in the request body: send each field once."
    if kind == "missing":
        return f"{label} is required." + (
            f" {FIELD_RULES[field]}" if field.startswith("header.") and field in FIELD_RULES else ""
        )
    if field in FIELD_RULES:
        return FIELD_RULES[field]
    if kind == "union_tag_invalid":
        return (
            f"Unknown procedure {ctx.get('tag', '')!r}. "
            f"Known procedures: {_plain_list(ctx.get('expected_tags', ''))}."
        )
    if kind == "union_tag_not_found":
        return "The procedure is required: say which procedure the case is for."
    if field == "body":
        return BODY_SHAPE
    if kind == "extra_forbidden":
        if field == "channel":
            return "Do not send the channel: it is taken from the access token."
        return f'"{field}" is not a field this request accepts.'
    if kind in ("literal_error", "enum"):
        return f"{label} must be one of: {_plain_list(ctx.get('expected', ''))}."
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{label} must be a JSON object."
    return f"{label} is not valid: {str(error.get('msg', 'invalid value')).lower()}."


def _label(field: str) -> str:
    if field in LABELS:
        return LABELS[field]
    if field.startswith("inputs."):
        return f'The input "{field.removeprefix("inputs.")}"'
    return f'The field "{field}"'


def _plain_list(expected: Any) -> str:
    """`'a', 'b' or 'c'` as pydantic writes it, to `a, b, c`."""
    text = str(expected).replace(" or ", ", ")
    return ", ".join(p.strip().strip("'") for p in text.split(","))
