"""What the ledger answers about a case: its status with its steps, and its history."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

CaseStatus = Literal["submitted", "in_progress", "completed", "rejected"]
StepStatus = Literal["pending", "dispatched", "completed", "rejected", "failed"]


class StepView(BaseModel):
    model_config = ConfigDict(frozen=True)

    step_id: str
    entity: str
    service: str
    status: StepStatus
    attempts: int
    dispatched_at: datetime | None = None
    finished_at: datetime | None = None
    reason: str | None = None
    compensates: str | None = Field(
        default=None, description="For a compensation: the step whose effect it undoes."
    )


class CaseView(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID
    procedure: str
    channel: str
    status: CaseStatus
    submitted_at: datetime
    updated_at: datetime
    version: int
    reason: str | None = None
    steps: list[StepView]


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: int
    type: str
    occurred_at: datetime
    actor: dict[str, str]
    data: dict[str, Any]
    # The W3C trace the event was written under (none for events older than the field).
    trace_id: str | None = None


class Delivery(BaseModel):
    """What the bus sent an entity for one attempt of a step: the data it received."""

    model_config = ConfigDict(frozen=True)

    entity: str
    step_id: str
    service: str
    attempt: int
    sent_at: datetime
    request: dict[str, Any]


class CaseHistory(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID
    channel: str
    events: list[HistoryEntry]
    as_of: datetime | None = Field(
        default=None, description="A replay: the moment asked for (events up to it)."
    )
    version: int | None = Field(
        default=None, description="A replay: the last event version it includes."
    )
    state: CaseView | None = Field(
        default=None, description="A replay: the case as it stood after its last event."
    )
    received: list[Delivery] = Field(
        default_factory=list, description="A replay: what each entity had received by then."
    )


class DataAccess(BaseModel):
    """One DL 1211 exchange about a citizen: which entity got which fields from which entity."""

    model_config = ConfigDict(frozen=True)

    case_id: UUID
    procedure: str
    role: str = Field(
        description="How the citizen takes part in the case: `applicant`, or the input that "
        "names them (e.g. `seller_dni`)."
    )
    occurred_at: datetime
    from_entity: str
    from_step: str
    to_entity: str
    to_step: str
    fields: list[str]
    purpose: str
    legal_basis: str


class CitizenAccessLog(BaseModel):
    """A citizen's "who used my data" view, oldest first."""

    model_config = ConfigDict(frozen=True)

    entries: list[DataAccess]


class EntityQueue(BaseModel):
    """How an entity's adapter keeps up with its work queue."""

    model_config = ConfigDict(frozen=True)

    entity: str
    waiting: int = Field(description="Requests not yet delivered to the adapter.")
    in_hand: int = Field(description="Delivered and not yet answered (acked).")
    redelivered: int = Field(description="Delivered more than once and still in hand.")


class StreamLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream: str
    messages: int


class BusOverview(BaseModel):
    """What an operator watches: queues per entity, stream levels, dead letters."""

    model_config = ConfigDict(frozen=True)

    entities: list[EntityQueue]
    streams: list[StreamLevel]
    dead_letters: int = Field(description="Messages set aside with a reason; see `dlq list`.")
