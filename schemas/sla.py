"""The ANS (service-level agreement) report as the bus answers it: per entity, service and
procedure over a period. The rules that decide each figure are in docs/operations.md."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.periods import PeriodQuery


class SlaBreach(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID
    step_id: str
    duration_s: float | None = Field(description="Seconds to the final answer; null: none yet.")


class SlaLineView(BaseModel):
    model_config = ConfigDict(frozen=True)

    entity: str
    service: str
    procedure: str
    deadline_s: float = Field(description="The deadline the catalog's ANS sets, in seconds.")
    steps: int = Field(description="Steps answered in the period, plus those already late.")
    within_deadline: int
    within_deadline_pct: float | None
    open: int = Field(description="Steps still unanswered, not yet late: not counted yet.")
    p50_s: float | None = Field(
        description="Median seconds to the final answer (nearest rank), bucketed: within 4.9 %."
    )
    p95_s: float | None = Field(
        description="95th percentile of the same (nearest rank), bucketed: within 4.9 %."
    )
    breaches: list[SlaBreach]


class SlaQuery(PeriodQuery):
    entity: str | None = None


class SlaReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    entity: str | None = None
    lines: list[SlaLineView]
