"""The case bus on a real NATS: the composition of the gateway's four adapters.

- `claims`: a channel's idempotency claims, in JetStream KV (claims.py);
- `submitter`: the claim, then the SubmitCase command on JetStream (submitter.py);
- `ledger`: questions to the ledger over request/reply (ledger_client.py), a long history in
  chunks;
- the operators' overview, from the server's own state (bus_overview.py).

What is here is only the order in which they are asked: a case's status comes from the ledger's
status bucket, then from its claim while the ledger has not recorded it, and only then from the
ledger itself.
"""

from datetime import datetime
from uuid import UUID

from nats.aio.client import Client

from schemas import subjects
from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.messages import SubmitCase
from schemas.queries import (
    AccessLogQuery,
    BundleAnswer,
    BundleQuery,
    CaseQuery,
    HistoryAnswer,
    ReadContext,
    ReadNotice,
    VerifyAnswer,
)
from schemas.sla import SlaQuery, SlaReport
from schemas.views import BusOverview, CaseHistory, CaseView, CitizenAccessLog
from services.bus.tracing import tracer
from services.observability.bus_state import dead_letters_by_source
from services.observability.indicator_views import with_dead_letters

from .bus_overview import bus_overview
from .case_bus import Admission, submitted_history, submitted_view
from .claims import ClaimBucket
from .ledger_client import LedgerClient
from .nats_calls import Bucket, nats_errors
from .status_kv import read_view
from .submitter import CaseSubmitter

# Events per history reply: about 450 bytes each, well under NATS's 1 MB reply.
HISTORY_CHUNK = 1000


class NatsCaseBus:
    def __init__(
        self,
        nc: Client,
        *,
        query_timeout: float = 2.0,
        ping_timeout: float = 1.0,
        publish_timeout: float = 2.0,
        publish_give_up_after: float = 5.0,
        history_chunk: int = HISTORY_CHUNK,
    ) -> None:
        self.nc = nc
        self.history_chunk = history_chunk
        self.claims = ClaimBucket(nc, subjects.IDEMPOTENCY_BUCKET)
        self.submitter = CaseSubmitter(
            nc.jetstream(),
            self.claims,
            subjects.submit_case,
            publish_timeout=publish_timeout,
            give_up_after=publish_give_up_after,
        )
        self.ledger = LedgerClient(nc, query_timeout=query_timeout, ping_timeout=ping_timeout)
        self.statuses = Bucket(nc, subjects.STATUS_BUCKET)

    async def submit(self, command: SubmitCase) -> Admission:
        envelope = command.envelope
        with tracer().start_as_current_span(
            "gateway submit-case",
            attributes={
                "ventanilla.case_id": str(envelope.case_id),
                "ventanilla.channel": envelope.actor.id,
            },
        ):
            return await self.submitter.submit(command)

    async def case(self, case_id: UUID) -> CaseView | None:
        """From the status bucket; while the ledger has not written it yet, the channel's claim
        (`submitted`); the ledger is asked only when neither is there (a case older than the
        bucket or the claim's week, or no such case)."""
        status = await self.statuses.kv()
        with nats_errors():
            view = await read_view(status, case_id)
        if view is not None:
            return view
        claim = await self.claims.get(case_id)
        if claim is not None:
            return submitted_view(claim)
        return await self.ledger.case(CaseQuery(case_id=case_id))

    async def history(
        self,
        case_id: UUID,
        *,
        as_of: datetime | None = None,
        version: int | None = None,
        read: ReadContext | None = None,
    ) -> CaseHistory | None:
        replay = as_of is not None or version is not None
        query = CaseQuery(
            case_id=case_id,
            as_of=as_of,
            version=version,
            read=read,
            limit=None if replay else self.history_chunk,
        )
        answer = await self.ledger.history(query)
        if answer.found and answer.history is not None:
            return await self._rest_of(answer) if answer.more else answer.history
        if read is not None and read.refused:
            return None  # recorded; nothing to show
        if replay:
            return None  # a replay of a case the ledger has not recorded (yet, or then)
        claim = await self.claims.get(case_id)
        return submitted_history(claim) if claim else None

    async def _rest_of(self, first: HistoryAnswer) -> CaseHistory:
        """The later chunks of a long history (the read was recorded with the first)."""
        assert first.history is not None
        history, events, more = first.history, list(first.history.events), first.more
        while more and events:
            query = CaseQuery(
                case_id=history.case_id, after=events[-1].position, limit=self.history_chunk
            )
            answer = await self.ledger.history(query)
            if answer.history is None:
                break
            events += answer.history.events
            more = answer.more
        return history.model_copy(update={"events": events})

    async def access_log(
        self, document_number: str, *, read: ReadContext | None = None
    ) -> CitizenAccessLog:
        return await self.ledger.access_log(
            AccessLogQuery(document_number=document_number, read=read)
        )

    async def overview(self) -> BusOverview:
        return await bus_overview(self.nc)

    async def sla(self, query: SlaQuery) -> SlaReport:
        return await self.ledger.sla(query)

    async def ping(self) -> None:
        await self.ledger.ping()

    async def record_read(self, case_id: UUID, read: ReadContext) -> int:
        return await self.ledger.record_read(ReadNotice(case_id=case_id, read=read))

    async def indicators(self, query: IndicatorsQuery) -> IndicatorsReport:
        report = await self.ledger.indicators(query)
        with nats_errors():
            letters = await dead_letters_by_source(self.nc.jetstream())
        return with_dead_letters(report, letters)

    async def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        return await self.ledger.dead_letters(query)

    async def redrive(self, request: RedriveRequest) -> RedriveAnswer:
        return await self.ledger.redrive(request)

    async def verify(self) -> VerifyAnswer:
        return await self.ledger.verify()

    async def bundle(self, case_id: UUID, read: ReadContext) -> BundleAnswer:
        return await self.ledger.bundle(BundleQuery(case_id=case_id, read=read))
