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

from schemas import queries
from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.sla import SlaQuery, SlaReport
from schemas.views import CaseView, CitizenAccessLog

from .case_bus import DependencyUnavailable
from .nats_calls import require_connection

Q = TypeVar("Q", bound=BaseModel | None)
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
        answer = await self._ask(queries.CASE, query)
        return answer.case if answer.found else None

    async def history(self, query: queries.CaseQuery) -> queries.HistoryAnswer:
        return await self._ask(queries.HISTORY, query)

    async def access_log(self, query: queries.AccessLogQuery) -> CitizenAccessLog:
        return (await self._ask(queries.ACCESS_LOG, query)).log

    async def sla(self, query: SlaQuery) -> SlaReport:
        return await self._ask(queries.SLA, query)

    async def indicators(self, query: IndicatorsQuery) -> IndicatorsReport:
        return await self._ask(queries.INDICATORS, query)

    async def record_read(self, notice: queries.ReadNotice) -> int:
        return (await self._ask(queries.RECORD_READ, notice)).citizens

    async def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        return await self._ask(queries.DEAD_LETTERS, query)

    async def redrive(self, request: RedriveRequest) -> RedriveAnswer:
        return await self._ask(queries.REDRIVE, request, REDRIVE_TIMEOUT)

    async def verify(self) -> queries.VerifyAnswer:
        return await self._ask(queries.VERIFY, queries.VerifyQuery(), AUDIT_QUERY_TIMEOUT)

    async def bundle(self, query: queries.BundleQuery) -> queries.BundleAnswer:
        return await self._ask(queries.BUNDLE, query, AUDIT_QUERY_TIMEOUT)

    async def ping(self) -> None:
        answer = await self._ask(queries.PING, None, self.ping_timeout)
        if answer.status != "ok":
            raise DependencyUnavailable("ledger", answer.detail or "not ready")

    async def _ask(
        self, question: queries.LedgerQuestion[Q, A], asked: Q, wait: float | None = None
    ) -> A:
        """The ledger's answer to `question`, within `wait` seconds (the query timeout)."""
        require_connection(self.nc)
        data = b"" if asked is None else asked.model_dump_json().encode()
        return await self._request(
            question.subject, data, question.answer, wait or self.query_timeout
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
