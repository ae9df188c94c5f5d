"""Questions to the case ledger over NATS request/reply: a case, its history, a citizen's access
log, the ANS report and the indicators, the auditor's verification and bundles, the dead-letter
desk, the record of a page's read, and whether it is up.

Each answer is a schemas model; no responder, no answer in time or an unreadable one is
`DependencyUnavailable("ledger")`, so the gateway answers 503 instead of waiting.
"""

from typing import TypeVar

import nats.errors
from nats.aio.client import Client
from pydantic import BaseModel, ValidationError

from schemas import queries, subjects
from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.sla import SlaQuery, SlaReport
from schemas.views import CaseView, CitizenAccessLog

from .case_bus import DependencyUnavailable
from .nats_calls import require_connection

A = TypeVar("A", bound=BaseModel)
# Verifying reads the whole ledger, an export every event of it: longer than a status query.
AUDIT_QUERY_TIMEOUT = 30.0
# Each redriven letter is a publish and an acknowledgement: give many of them the time they need.
REDRIVE_TIMEOUT = 10.0


class LedgerClient:
    def __init__(
        self, nc: Client, *, query_timeout: float = 2.0, ping_timeout: float = 1.0
    ) -> None:
        self.nc = nc
        self.query_timeout = query_timeout
        self.ping_timeout = ping_timeout

    async def case(self, query: queries.CaseQuery) -> CaseView | None:
        answer = await self._ask(subjects.LEDGER_QUERY_CASE, query, queries.CaseAnswer)
        return answer.case if answer.found else None

    async def history(self, query: queries.CaseQuery) -> queries.HistoryAnswer:
        return await self._ask(subjects.LEDGER_QUERY_HISTORY, query, queries.HistoryAnswer)

    async def access_log(self, query: queries.AccessLogQuery) -> CitizenAccessLog:
        answer = await self._ask(subjects.LEDGER_QUERY_ACCESS_LOG, query, queries.AccessLogAnswer)
        return answer.log

    async def sla(self, query: SlaQuery) -> SlaReport:
        return await self._ask(subjects.LEDGER_QUERY_SLA, query, SlaReport)

    async def indicators(self, query: IndicatorsQuery) -> IndicatorsReport:
        return await self._ask(subjects.LEDGER_QUERY_INDICATORS, query, IndicatorsReport)

    async def record_read(self, notice: queries.ReadNotice) -> int:
        answer = await self._ask(subjects.LEDGER_RECORD_READ, notice, queries.ReadRecorded)
        return answer.citizens

    async def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        return await self._ask(subjects.LEDGER_QUERY_DEAD_LETTERS, query, DeadLetterList)

    async def redrive(self, request: RedriveRequest) -> RedriveAnswer:
        return await self._ask(subjects.LEDGER_REDRIVE, request, RedriveAnswer, REDRIVE_TIMEOUT)

    async def verify(self) -> queries.VerifyAnswer:
        return await self._ask(
            subjects.LEDGER_QUERY_VERIFY,
            queries.VerifyQuery(),
            queries.VerifyAnswer,
            AUDIT_QUERY_TIMEOUT,
        )

    async def bundle(self, query: queries.BundleQuery) -> queries.BundleAnswer:
        return await self._ask(
            subjects.LEDGER_QUERY_BUNDLE, query, queries.BundleAnswer, AUDIT_QUERY_TIMEOUT
        )

    async def ping(self) -> None:
        require_connection(self.nc)
        answer = await self._request(
            subjects.LEDGER_PING, b"", queries.PingAnswer, self.ping_timeout
        )
        if answer.status != "ok":
            raise DependencyUnavailable("ledger", answer.detail or "not ready")

    async def _ask(
        self, subject: str, query: BaseModel, answer: type[A], wait: float | None = None
    ) -> A:
        require_connection(self.nc)
        return await self._request(
            subject, query.model_dump_json().encode(), answer, wait or self.query_timeout
        )

    async def _request(self, subject: str, data: bytes, answer: type[A], wait: float) -> A:
        try:
            reply = await self.nc.request(subject, data, timeout=wait)
        except nats.errors.NoRespondersError:
            raise DependencyUnavailable("ledger", "no ledger is listening") from None
        except (TimeoutError, nats.errors.TimeoutError):
            raise DependencyUnavailable("ledger", "the ledger did not answer in time") from None
        except nats.errors.Error as exc:
            raise DependencyUnavailable("nats", type(exc).__name__) from None
        try:
            return answer.model_validate_json(reply.data)
        except ValidationError:
            raise DependencyUnavailable("ledger", "unreadable answer from the ledger") from None
