"""What every service request and result has in common."""

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ServiceRequest(BaseModel):
    """Base of every entity service request.

    `attempt_id` reaches the back office as its idempotency key: a redelivered request
    carries the same key, so the back office can refuse to charge or issue twice.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID
    attempt_id: UUID = Field(description="Idempotency key for the back office.")


class ServiceResult(BaseModel):
    """Base of every entity service result."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# Filled in by the bus for every request, so a catalog never has to provide them.
ENVELOPE_FIELDS = frozenset(ServiceRequest.model_fields)
