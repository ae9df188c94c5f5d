"""What every service request and result has in common."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ServiceRequest(BaseModel):
    """Base of every entity service request.

    `operation_id` reaches the back office as its idempotency key: every attempt and every
    redelivery of a step carries the same key, so the back office can refuse to act twice.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID
    operation_id: UUID = Field(
        description="Idempotency key for the back office: the same for every attempt of a step, "
        "so a retried or redelivered request never charges or issues twice."
    )
    attempt_id: UUID = Field(description="This attempt at the step, for tracing and answers.")
    step_id: str = Field(
        description="The case's step this request is for: with `case_id` and `attempt_id`, where "
        "a deferred answer goes (see `outcome: accepted` on the step result)."
    )


class ServiceResult(BaseModel):
    """Base of every entity service result."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def request_examples(*payloads: dict[str, Any]) -> ConfigDict:
    """A request model's `examples` (its own fields; the bus fills the envelope fields): shown
    in the bus contract and sent by `ventanilla adapter check` (services/conformance/)."""
    return ConfigDict(json_schema_extra={"examples": list(payloads)})


# Filled in by the bus for every request, so a catalog never has to provide them.
ENVELOPE_FIELDS = frozenset(ServiceRequest.model_fields)


Request = TypeVar("Request", bound=ServiceRequest)
Result = TypeVar("Result", bound=ServiceResult)


@dataclass(frozen=True)
class ServiceContract(Generic[Request, Result]):
    """One service of one entity: what it takes and what it answers.

    The service's code is written once, here; adapters register their handlers with this object
    (so mypy checks a handler's types against `Request` and `Result`) and procedures name it.
    The type parameters are invariant on purpose: a handler answering another service's result
    is refused even when both results share a base class.
    """

    entity: str
    service: str
    title: str
    request: type[Request]
    result: type[Result]
