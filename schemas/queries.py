"""Questions the gateway asks the ledger over NATS request/reply, and the answers."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.identifiers import Dni
from schemas.views import CaseHistory, CaseView, CitizenAccessLog


class ReadContext(BaseModel):
    """Who asks to read personal data and why, for the ledger to record the read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reader_kind: str
    reader_id: str
    purpose: str | None = Field(default=None, max_length=500)
    request_id: str | None = Field(default=None, max_length=200)
    service: str = "gateway"
    refused: bool = False  # only record it: the asker was not allowed to read


class CaseQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID
    as_of: datetime | None = None  # history only: replay the case as of this moment
    version: int | None = Field(default=None, ge=1)  # history only: or as of this version
    read: ReadContext | None = None  # history only: record this read of personal data


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
    read: ReadContext | None = None


class AccessLogAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    log: CitizenAccessLog


class VerifyQuery(BaseModel):
    """Check the whole ledger: every case's hash chain and every signed checkpoint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_position: int = Field(default=0, ge=0)


class VerifyFinding(BaseModel):
    model_config = ConfigDict(frozen=True)

    what: str
    position: int | None = None
    case_id: str | None = None
    version: int | None = None


class VerifyAnswer(BaseModel):
    """What `ventanilla audit verify` says, for the auditor's page. `findings` in ledger order
    (the first is the earliest damage), at most the first ten of `finding_count`."""

    model_config = ConfigDict(frozen=True)

    available: bool = True  # False: this ledger runs without audit files (no signing key)
    events: int = 0
    cases: int = 0
    checkpoints: int = 0
    finding_count: int = 0
    findings: list[VerifyFinding] = []


class BundleQuery(BaseModel):
    """Export a case's evidence bundle; the export is a read of personal data, recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID
    read: ReadContext


class BundleAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    found: bool
    bundle: dict[str, Any] | None = None
    problem: str | None = None  # why there is no bundle although the case exists
