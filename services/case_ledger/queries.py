"""Answers to the gateway's questions about a case, over NATS request/reply.

Reads run on their own thread so a long write batch never delays a status query.
"""

import asyncio

from nats.aio.client import Client
from nats.aio.subscription import Subscription

from schemas import queries
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.queries import (
    AccessLogAnswer,
    AccessLogQuery,
    BundleAnswer,
    BundleQuery,
    CaseAnswer,
    CaseQuery,
    HistoryAnswer,
    PingAnswer,
    ReadNotice,
    ReadRecorded,
    VerifyAnswer,
    VerifyFinding,
    VerifyQuery,
)
from schemas.sla import SlaQuery, SlaReport
from services.errors import CaseNotFound

from .access_log import (
    BUNDLE_EXPORT,
    CASE_HISTORY,
    CASE_REPLAY,
    citizen_access_log,
    record_case_read,
)
from .answering import Answering, answering, serve_answers, subscribe_answers
from .application import CaseLedger
from .audit.bundle import NotCovered
from .audit.ledger_audit import LedgerAudit
from .projections.indicators import ledger_indicators
from .projections.sla import sla_report_of
from .writer import LedgerThread

SHOWN_FINDINGS = 10


class LedgerQueries:
    def __init__(
        self, ledger: CaseLedger, reader: LedgerThread, audit: LedgerAudit | None = None
    ) -> None:
        self.ledger = ledger
        self.reader = reader
        # The checkpoint watch's own: on the same reader thread, so one signs at a time.
        self.audit = audit

    async def case(self, query: CaseQuery) -> CaseAnswer:
        try:
            view = await self.reader.run(self.ledger.case_view, query.case_id)
        except CaseNotFound:
            return CaseAnswer(found=False)
        return CaseAnswer(found=True, case=view)

    async def history(self, query: CaseQuery) -> HistoryAnswer:
        replay = query.as_of is not None or query.version is not None
        action = CASE_REPLAY if replay else CASE_HISTORY
        if query.read is not None and query.read.refused:
            await self.reader.run(record_case_read, self.ledger, query.case_id, query.read, action)
            return HistoryAnswer(found=False)
        try:
            if not replay:
                history = await self.reader.run(self.ledger.case_history, query.case_id)
            else:
                history = await self.reader.run(
                    lambda: self.ledger.case_replay(
                        query.case_id, as_of=query.as_of, version=query.version
                    )
                )
        except CaseNotFound:
            return HistoryAnswer(found=False)
        if query.read is not None:
            read = query.read
            if read.reader_kind == "channel" and read.reader_id != history.channel:
                # The gateway shows a channel only its own cases: this one it will refuse.
                read = read.model_copy(update={"refused": True})
            await self.reader.run(record_case_read, self.ledger, query.case_id, read, action)
        if replay or query.limit is None:
            return HistoryAnswer(found=True, history=history)
        after = query.after or 0
        later = [e for e in history.events if e.position > after]
        chunk = history.model_copy(update={"events": later[: query.limit]})
        return HistoryAnswer(found=True, history=chunk, more=len(later) > query.limit)

    async def access_log(self, query: AccessLogQuery) -> AccessLogAnswer:
        log_ = await self.reader.run(
            citizen_access_log, self.ledger, query.document_number, query.read
        )
        return AccessLogAnswer(log=log_)

    async def sla(self, query: SlaQuery) -> SlaReport:
        # On the reader thread: catching the projection up writes only its own tables.
        return await self.reader.run(sla_report_of, self.ledger, query)

    async def record_read(self, notice: ReadNotice) -> ReadRecorded:
        citizens = await self.reader.run(
            record_case_read, self.ledger, notice.case_id, notice.read, notice.action
        )
        return ReadRecorded(citizens=citizens)

    async def indicators(self, query: IndicatorsQuery) -> IndicatorsReport:
        # On the reader thread, as the ANS report: catching up writes only the projections.
        return await self.reader.run(ledger_indicators, self.ledger, query.start, query.end)

    async def verify(self, query: VerifyQuery) -> VerifyAnswer:
        """The auditor's page asks what `ventanilla audit verify` would say (no personal data)."""
        audit = self.audit
        if audit is None:
            return VerifyAnswer(available=False)

        def check() -> VerifyAnswer:
            report = audit.verify(query.from_position)
            return VerifyAnswer(
                events=report.events,
                cases=report.cases,
                checkpoints=report.checkpoints,
                finding_count=len(report.findings),
                findings=[
                    VerifyFinding(
                        what=f.what, position=f.position, case_id=f.case_id, version=f.version
                    )
                    for f in report.findings[:SHOWN_FINDINGS]
                ],
            )

        return await self.reader.run(check)

    async def bundle(self, query: BundleQuery) -> BundleAnswer:
        """The case's evidence bundle, as `ventanilla audit export` writes it; the read is
        recorded (refused ones too)."""
        if query.read.refused:
            await self.reader.run(
                record_case_read, self.ledger, query.case_id, query.read, BUNDLE_EXPORT
            )
            return BundleAnswer(found=False)
        audit = self.audit
        if audit is None:
            return BundleAnswer(found=False, problem="this ledger signs no checkpoints")

        def export() -> BundleAnswer:
            try:
                bundle = audit.export(str(query.case_id))
            except NotCovered as exc:
                return BundleAnswer(found=True, problem=str(exc))
            except LookupError:
                return BundleAnswer(found=False)
            record_case_read(self.ledger, query.case_id, query.read, BUNDLE_EXPORT)
            return BundleAnswer(found=True, bundle=bundle)

        return await self.reader.run(export)

    async def ping(self, _: None = None) -> PingAnswer:
        try:
            await self.reader.run(self.ledger.position, "commands")
        except Exception as exc:
            return PingAnswer(status="unavailable", detail=type(exc).__name__)
        return PingAnswer(status="ok")

    def answers(self) -> list[Answering]:
        """How this ledger answers each of its questions but the dead-letter desk's."""
        return [
            answering(queries.CASE, self.case),
            answering(queries.HISTORY, self.history),
            answering(queries.ACCESS_LOG, self.access_log),
            answering(queries.PING, self.ping),
            answering(queries.SLA, self.sla),
            answering(queries.RECORD_READ, self.record_read),
            answering(queries.INDICATORS, self.indicators),
            answering(queries.VERIFY, self.verify),
            answering(queries.BUNDLE, self.bundle),
        ]

    async def subscribe(self, nc: Client) -> list[Subscription]:
        return await subscribe_answers(nc, self.answers())


async def serve_queries(nc: Client, ledger: LedgerQueries, stop: asyncio.Event) -> None:
    await serve_answers(nc, ledger.answers(), stop)
