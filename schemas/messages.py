"""Commands and results that travel on the bus, each wrapped with the same envelope."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.citizens import CitizenRef
from schemas.personal import PERSONAL


class Actor(BaseModel):
    """Who did something: a channel, an entity, the ledger or an operator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["channel", "entity", "ledger", "operator"]
    id: str


class Envelope(BaseModel):
    """What every message carries besides its body (W3C trace context travels in headers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: UUID
    case_id: UUID
    correlation_id: UUID = Field(description="Always the case id: one case, one correlation.")
    causation_id: UUID | None = Field(default=None, description="The message that caused this.")
    actor: Actor
    occurred_at: datetime
    schema_version: Literal[1] = 1


class Consent(BaseModel):
    """The citizen saw which data the State would obtain about them, and from whom, and agreed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    given_at: datetime
    flows: list[str] = Field(
        description="The data flows shown, as `from-entity/step -> to-entity/step: fields`."
    )


class CounterAttendance(BaseModel):
    """Who took a case at a counter, under which delegation, with the citizen's consent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    clerk: str = Field(description="The clerk account that submitted the case.")
    delegation: str = Field(description="The delegation the clerk took the procedure under.")
    consent: Consent


class SubmitCase(BaseModel):
    """A channel asks the bus to open a case for a procedure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    envelope: Envelope
    procedure: str
    citizen: CitizenRef
    inputs: dict[str, Any]
    request_fingerprint: Annotated[str, PERSONAL] = Field(
        description="Hash of the channel's request body, to tell a retry from a conflicting reuse."
    )
    attendance: CounterAttendance | None = Field(
        default=None, description="Set when a clerk took the case at a counter console."
    )


class StepRequest(BaseModel):
    """The ledger asks an entity to perform one service for a case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    envelope: Envelope
    step_id: str
    attempt: int
    attempt_id: UUID = Field(description="Idempotency key of this attempt, end to end.")
    entity: str
    service: str
    payload: dict[str, Any] = Field(description="The service's typed request, as JSON.")


StepOutcome = Literal["completed", "rejected", "failed", "accepted"]


class StepResult(BaseModel):
    """An entity answers a step request.

    `completed` carries the service's typed result; `rejected` is a final business refusal;
    `failed` means the entity could not answer after its retries (a technical failure);
    `accepted` means the entity took the request and will publish one of the others later (a
    deferred answer, by `expected_by`), for the same attempt: the step stays open until then,
    within its deadline (ANS).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    envelope: Envelope
    step_id: str
    attempt_id: UUID
    entity: str
    service: str
    outcome: StepOutcome
    data: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    expected_by: datetime | None = Field(
        default=None, description="For `accepted`: when the entity expects to answer."
    )

    @model_validator(mode="after")
    def _accepted_says_when(self) -> "StepResult":
        if (self.outcome == "accepted") != (self.expected_by is not None):
            raise ValueError("`expected_by` is required for `accepted`, and only for it")
        return self


class LedgerEvent(BaseModel):
    """A ledger event as announced on the bus: what happened, without the personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    envelope: Envelope
    position: int = Field(description="Position in the ledger's notification log.")
    type: str
    version: int = Field(description="Version of the case after this event.")
    step_id: str | None = None
    status: str | None = None
