"""Questions the gateway asks the ledger over NATS request/reply, and the answers."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.identifiers import Dni
from schemas.views import CaseHistory, CaseView, CitizenAccessLog


class CaseQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID
    as_of: datetime | None = None  # history only: replay the case as of this moment
    version: int | None = Field(default=None, ge=1)  # history only: or as of this version


class CaseAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    found: bool
    case: CaseView | None = None


class HistoryAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    found: bool
    history: CaseHistory | None = None


class PingAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Literal["ok", "unavailable"]
    detail: str | None = None


class AccessLogQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    document_number: Dni


class AccessLogAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    log: CitizenAccessLog
