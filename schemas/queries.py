"""Questions the gateway and the CLI ask the ledger over NATS request/reply, their answers, and
the table of them all (`LEDGER_QUESTIONS`)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas import subjects
from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.identifiers import Dni
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.sla import SlaQuery, SlaReport
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
    # An auditor's read under an investigation the law lets them keep from the citizen for a
    # time: the row is marked restricted (DataRead.restricted), hidden from the citizen's own
    # view, shown to auditors.
    restricted: bool = False


class CaseQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID
    as_of: datetime | None = None  # history only: replay the case as of this moment
    version: int | None = Field(default=None, ge=1)  # history only: or as of this version
    read: ReadContext | None = None  # history only: record this read of personal data
    # History without a replay, in chunks: the events after position `after`, at most `limit`
    # (a NATS reply holds 1 MB by default, about 2,000 events).
    after: int | None = Field(default=None, ge=0)
    limit: int | None = Field(default=None, ge=1)


class CaseAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    found: bool
    case: CaseView | None = None


class HistoryAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    found: bool
    history: CaseHistory | None = None
    more: bool = False  # a chunk (`limit`): there are events after these


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


class ReadNotice(BaseModel):
    """A read of a case's personal data made elsewhere (a clerk's page), for the ledger to
    record as it records its own history reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: UUID
    read: ReadContext
    action: Literal["case-view"] = "case-view"


class ReadRecorded(BaseModel):
    model_config = ConfigDict(frozen=True)

    citizens: int  # how many citizens of the case the read concerned (one row each)


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


Q = TypeVar("Q", bound=BaseModel | None)
A = TypeVar("A", bound=BaseModel)


@dataclass(frozen=True)
class LedgerQuestion(Generic[Q, A]):
    """One question the ledger answers over core NATS request/reply, in one queue group.

    The ledger subscribes to every question of `LEDGER_QUESTIONS`, the gateway's ledger client
    asks them, and the AsyncAPI contract lists them: all from this table.
    """

    name: str  # in the contract's operation ids: ledger.answer.<name>, gateway.ask.<name>
    subject: str
    question: type[Q] | None  # None: the request's body is empty (ping)
    answer: type[A]
    summary: str


CASE: LedgerQuestion[CaseQuery, CaseAnswer] = LedgerQuestion(
    "case", subjects.LEDGER_QUERY_CASE, CaseQuery, CaseAnswer, "A case's status and steps."
)
HISTORY: LedgerQuestion[CaseQuery, HistoryAnswer] = LedgerQuestion(
    "history",
    subjects.LEDGER_QUERY_HISTORY,
    CaseQuery,
    HistoryAnswer,
    "A case's ledger history, or a replay as of a moment or version; records the read.",
)
ACCESS_LOG: LedgerQuestion[AccessLogQuery, AccessLogAnswer] = LedgerQuestion(
    "access-log",
    subjects.LEDGER_QUERY_ACCESS_LOG,
    AccessLogQuery,
    AccessLogAnswer,
    "Who used a citizen's data; the document number travels in the body, never the subject.",
)
SLA: LedgerQuestion[SlaQuery, SlaReport] = LedgerQuestion(
    "sla", subjects.LEDGER_QUERY_SLA, SlaQuery, SlaReport, "The ANS report over a period."
)
PING: LedgerQuestion[None, PingAnswer] = LedgerQuestion(
    "ping", subjects.LEDGER_PING, None, PingAnswer, "Whether the ledger can read its store."
)
RECORD_READ: LedgerQuestion[ReadNotice, ReadRecorded] = LedgerQuestion(
    "read",
    subjects.LEDGER_RECORD_READ,
    ReadNotice,
    ReadRecorded,
    "Record a read of a case's personal data (a clerk's case page) with its purpose.",
)
VERIFY: LedgerQuestion[VerifyQuery, VerifyAnswer] = LedgerQuestion(
    "verify",
    subjects.LEDGER_QUERY_VERIFY,
    VerifyQuery,
    VerifyAnswer,
    "What `ventanilla audit verify` says of the running ledger; no personal data.",
)
BUNDLE: LedgerQuestion[BundleQuery, BundleAnswer] = LedgerQuestion(
    "bundle",
    subjects.LEDGER_QUERY_BUNDLE,
    BundleQuery,
    BundleAnswer,
    "A case's evidence bundle (docs/bundle-format.md); records the read.",
)
INDICATORS: LedgerQuestion[IndicatorsQuery, IndicatorsReport] = LedgerQuestion(
    "indicators",
    subjects.LEDGER_QUERY_INDICATORS,
    IndicatorsQuery,
    IndicatorsReport,
    "The management indicators and savings over a period.",
)
DEAD_LETTERS: LedgerQuestion[DeadLetterQuery, DeadLetterList] = LedgerQuestion(
    "dead-letters",
    subjects.LEDGER_QUERY_DEAD_LETTERS,
    DeadLetterQuery,
    DeadLetterList,
    "The dead letters, filtered, with redacted payloads.",
)
REDRIVE: LedgerQuestion[RedriveRequest, RedriveAnswer] = LedgerQuestion(
    "redrive",
    subjects.LEDGER_REDRIVE,
    RedriveRequest,
    RedriveAnswer,
    "Redrive dead letters with the operator's reason; a second redrive does nothing.",
)

# In the contract's order.
LEDGER_QUESTIONS: tuple[LedgerQuestion[Any, Any], ...] = (
    CASE,
    HISTORY,
    ACCESS_LOG,
    SLA,
    PING,
    RECORD_READ,
    VERIFY,
    BUNDLE,
    INDICATORS,
    DEAD_LETTERS,
    REDRIVE,
)
