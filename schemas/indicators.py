"""The management indicators as the bus answers them: attentions per channel and day, per
procedure and per entity, times per procedure, rejection reasons ranked, retries and dead
letters per entity. The rules that decide each figure are in docs/operations.md."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.periods import PeriodQuery


class IndicatorsQuery(PeriodQuery):
    """The indicators over the period."""


# How a step of the bus's traffic stands: its last attempt's outcome (a `StepOutcome` but
# `accepted`, schemas/messages.py), or `open` while it waits for one.
StepStanding = Literal["completed", "rejected", "failed", "open"]


class ChannelDay(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel: str
    day: date = Field(description="The UTC day the cases were submitted.")
    attentions: int = Field(description="Cases submitted through this channel that day.")


class StepDay(BaseModel):
    """The bus's traffic: requests to entities first dispatched on a day, by how they stand."""

    model_config = ConfigDict(frozen=True)

    day: date = Field(description="The UTC day of the step's first dispatch.")
    entity: str
    procedure: str
    outcome: StepStanding
    steps: int


class ProcedureFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    procedure: str
    attentions: int = Field(description="Cases of this procedure submitted in the period.")
    completed: int
    rejected: int
    open: int = Field(description="Not ended yet: left out of the times.")
    mean_s: float | None = Field(description="Mean seconds from submission to the case's end.")
    p95_s: float | None = Field(
        description="95th percentile (nearest rank) of the same, bucketed: within 4.9 %."
    )


class EntityFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    entity: str
    attentions: int = Field(description="Steps first dispatched to this entity in the period.")
    completed: int
    rejected: int
    failed: int = Field(description="Steps whose last attempt failed or passed its deadline.")
    retries: int = Field(description="Attempts beyond each step's first.")
    oldest_open_since: datetime | None = Field(
        default=None,
        description="First dispatch of the oldest step of the period still unanswered.",
    )
    dead_letters: int | None = Field(
        description="Dead letters this entity's adapter filed (kept now, not by period); "
        "null when the bus was not asked."
    )


RejectionKind = Literal["refused", "no-answer", "invalid-request", "erased", "other"]


class RejectionReason(BaseModel):
    """Why cases were rejected, by kind and by the step that decided it. The entity's own
    words are not used: they may name a plate or a person, and they vary case by case."""

    model_config = ConfigDict(frozen=True)

    kind: RejectionKind = Field(
        description="refused: the entity said no; no-answer: its attempts failed or passed "
        "their deadline; invalid-request: a request could not be built; erased: the citizen's "
        "data was erased while the case ran."
    )
    entity: str | None
    service: str | None
    cases: int


class SavingsLine(BaseModel):
    """What the citizens of a channel and procedure were spared in the period (docs/impact.md):
    counted for completed cases only; rejected ones (erased ones too) are counted apart."""

    model_config = ConfigDict(frozen=True)

    channel: str
    procedure: str
    cases: int = Field(description="Completed cases: the ones whose savings count.")
    not_counted: int = Field(description="Rejected or still open cases: no savings counted.")
    documents: int = Field(description="Documents not brought (each DataShared replacing one).")
    entities: int = Field(description="Entity visits avoided (per case, entities summed).")
    trips: int
    hours: float
    soles: float


class IndicatorsReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    channel_days: list[ChannelDay]
    step_days: list[StepDay] = Field(default_factory=list)
    procedures: list[ProcedureFigures]
    entities: list[EntityFigures]
    rejection_reasons: list[RejectionReason] = Field(description="Most frequent first.")
    savings: list[SavingsLine] = Field(default_factory=list)
    savings_basis: str = Field(
        default="demo-assumption",
        description="The label of the assumptions the savings rest on (demo-assumption: "
        "illustrative values, not measurements).",
    )
    ledger_dead_letters: int | None = Field(
        default=None, description="Dead letters the ledger filed (results it could not use)."
    )
