"""What the ledger answers about a case: its status with its steps, and its history."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.sites import SiteLink

CaseStatus = Literal["submitted", "in_progress", "completed", "rejected"]
# A case in one of these has ended: nothing more will happen to it.
FINAL_STATUSES: frozenset[CaseStatus] = frozenset({"completed", "rejected"})
# `accepted`: the entity took the request and answers later (waiting for the entity).
StepStatus = Literal["pending", "dispatched", "accepted", "completed", "rejected", "failed"]


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
    expected_by: datetime | None = Field(
        default=None, description="For an accepted step: when the entity said it would answer."
    )
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


class DataRead(BaseModel):
    """One read of a citizen's personal data ("consultado por"), as Estonia's Data Tracker
    records it: when, what was done, from which holder to which reader, the request, the
    service, the purpose given, whether it was allowed, and whether the row is restricted."""

    model_config = ConfigDict(frozen=True)

    occurred_at: datetime
    action: str = Field(
        description="What was read: case-history, case-replay, case-view, citizen-access-log, "
        "bundle-export."
    )
    reader: str = Field(description="Who read: `<kind>:<id>` (e.g. `auditor:sgp-auditoria`).")
    from_entity: str = Field(description="Whose records were read (the ledger: `ventanilla`).")
    to_entity: str = Field(description="The organisation that received them.")
    request_id: str | None = None
    service: str = Field(description="The service that served the read: `gateway`, `cli`.")
    purpose: str | None = None
    refused: bool = Field(default=False, description="The read was asked for and refused.")
    restricted: bool = Field(
        default=False,
        description="Hidden from the citizen's own view for a time the law allows (e.g. an "
        "investigation); auditors see it.",
    )
    case_id: UUID | None = None
    role: str | None = Field(default=None, description="The citizen's part in that case.")


class CitizenAccessLog(BaseModel):
    """A citizen's "who used my data" view, oldest first."""

    model_config = ConfigDict(frozen=True)

    entries: list[DataAccess]
    reads: list[DataRead] = Field(
        default_factory=list, description="Who read the citizen's data (consultado por)."
    )


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
    sites: list[SiteLink] = Field(
        default_factory=list, description="Each MAC Express site's link (`ventanilla sites`)."
    )
