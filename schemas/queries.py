"""Questions the gateway asks the ledger over NATS request/reply, and the answers."""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.views import CaseHistory, CaseView


class CaseQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID


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
