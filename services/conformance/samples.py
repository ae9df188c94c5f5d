"""The requests a conformance check sends, built from the examples in the service contracts.

A contract's request model carries `examples` in its JSON Schema (the service's own fields; the
bus fills `case_id`, `operation_id`, `attempt_id` and `step_id`):

```python
class PermitRequest(ServiceRequest):
    model_config = ConfigDict(json_schema_extra={"examples": [{"plate": "ABC-123"}]})
```
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import ValidationError

from schemas.conformance import check_case_id
from schemas.entities.base import ENVELOPE_FIELDS, ServiceContract
from schemas.messages import Actor, Envelope, StepRequest

CHECK_ACTOR = Actor(kind="operator", id="adapter-check")
STEP_ID = "conformance-check"


class NoExample(ValueError):
    """A contract whose request model has no usable example; the message says which and why."""


def examples_of(contract: ServiceContract[Any, Any]) -> list[dict[str, Any]]:
    """The contract's request examples, each checked against its own model."""
    found = contract.request.model_json_schema().get("examples") or []
    if not found:
        raise NoExample(f"{contract.request.__name__} has no `examples` in its JSON Schema")
    for example in found:
        try:
            contract.request.model_validate({**_envelope_fields(), **example})
        except ValidationError as exc:
            raise NoExample(f"{contract.request.__name__}: an example is invalid: {exc}") from None
    return [dict(e) for e in found]


def _envelope_fields(
    case_id: UUID | None = None, operation_id: UUID | None = None, attempt_id: UUID | None = None
) -> dict[str, Any]:
    return {
        "case_id": str(case_id or check_case_id()),
        "operation_id": str(operation_id or uuid4()),
        "attempt_id": str(attempt_id or uuid4()),
        "step_id": STEP_ID,
    }


def step_request(
    contract: ServiceContract[Any, Any],
    example: dict[str, Any],
    *,
    case_id: UUID | None = None,
    operation_id: UUID | None = None,
    attempt: int = 1,
    service: str | None = None,
) -> StepRequest:
    """A step request as the ledger would send it, under a check case id."""
    case_id = case_id or check_case_id()
    attempt_id = uuid4()
    payload = {**example, **_envelope_fields(case_id, operation_id, attempt_id)}
    return StepRequest(
        envelope=Envelope(
            message_id=uuid4(),
            case_id=case_id,
            correlation_id=case_id,
            actor=CHECK_ACTOR,
            occurred_at=datetime.now(UTC),
        ),
        step_id=STEP_ID,
        attempt=attempt,
        attempt_id=attempt_id,
        entity=contract.entity,
        service=service or contract.service,
        payload=payload,
    )


def without_a_field(
    contract: ServiceContract[Any, Any], example: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The example minus its first required field, and that field's name."""
    for name, info in contract.request.model_fields.items():
        if name not in ENVELOPE_FIELDS and info.is_required() and name in example:
            return name, {k: v for k, v in example.items() if k != name}
    raise NoExample(f"{contract.request.__name__} has no required field of its own to leave out")
