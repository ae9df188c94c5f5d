"""The case bus of a site's gateway: everything it needs is on the site's own server.

A submission is claimed in the site's claims bucket (the same rule as at the hub: the same key
and body is a repeat, the same key with another body a conflict) and published to the site's
outgoing stream; the 202 does not depend on the link. A case's status is the latest view the
hub sent back, copied into the site's status stream; until then, the claim says the case is
`submitted` and waiting to be forwarded. Nothing here asks the hub anything.
"""

from datetime import datetime
from uuid import UUID

from nats.aio.client import Client
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas import sites
from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.messages import SubmitCase
from schemas.queries import BundleAnswer, ReadContext, ReadNotice, VerifyAnswer
from schemas.sla import SlaQuery, SlaReport
from schemas.views import BusOverview, CaseHistory, CaseView, CitizenAccessLog, StreamLevel
from services.gateway.case_bus import (
    Admission,
    DependencyUnavailable,
    submitted_history,
    submitted_view,
)
from services.gateway.claims import ClaimBucket
from services.gateway.nats_calls import nats_errors, require_connection
from services.gateway.submitter import CaseSubmitter

SERVER = "the site's NATS"  # how errors name the server: the site's own, not the hub's


class SiteCase(BaseModel):
    """A case as the site's advisor sees it: the hub's view once it came back."""

    model_config = ConfigDict(frozen=True)

    case_id: UUID
    procedure: str
    submitted_at: datetime
    forwarded: bool
    status: str
    view: CaseView | None = None


class SiteCaseBus:
    def __init__(self, nc: Client, site: str, *, publish_timeout: float = 2.0) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.site = site
        self.channel = sites.site_channel(site)
        self.publish_timeout = publish_timeout
        self.claims = ClaimBucket(nc, sites.CLAIMS_BUCKET, server=SERVER)
        self.submitter = CaseSubmitter(
            self.js,
            self.claims,
            # The site's own outbox subject: the hub's relay puts the case id in the subject
            # it forwards the case on (services/sites/relay.py).
            lambda channel, _case_id: sites.outbox_submit_case(site, channel),
            publish_timeout=publish_timeout,
        )

    async def submit(self, command: SubmitCase) -> Admission:
        return await self.submitter.submit(command)

    async def case(self, case_id: UUID) -> CaseView | None:
        view = await self._status(case_id)
        if view is not None:
            return view
        claim = await self.claims.get(case_id)
        return submitted_view(claim) if claim else None

    async def history(
        self,
        case_id: UUID,
        *,
        as_of: datetime | None = None,
        version: int | None = None,
        read: ReadContext | None = None,
    ) -> CaseHistory | None:
        """The ledger is at the hub: a site knows a case's claim, not its events."""
        if as_of is not None or version is not None:
            raise DependencyUnavailable("ledger", "a site cannot replay; ask the hub")
        claim = await self.claims.get(case_id)
        return submitted_history(claim) if claim else None

    async def access_log(
        self, document_number: str, *, read: ReadContext | None = None
    ) -> CitizenAccessLog:
        raise DependencyUnavailable("ledger", "the access log is kept at the hub")

    async def sla(self, query: SlaQuery) -> SlaReport:
        raise DependencyUnavailable("ledger", "the ANS report is kept at the hub")

    async def record_read(self, case_id: UUID, read: ReadContext) -> int:
        """Kept in the site's outgoing stream, behind the case itself; the hub's relay hands it
        to the ledger, which records it in the citizen's access log. The site cannot tell for
        how many citizens: 0."""
        require_connection(self.nc, SERVER)
        notice = ReadNotice(case_id=case_id, read=read)
        with nats_errors():
            await self.js.publish(
                sites.outbox_read_notice(self.site, self.channel),
                notice.model_dump_json().encode(),
                timeout=self.publish_timeout,
            )
        return 0

    async def indicators(self, query: IndicatorsQuery) -> IndicatorsReport:
        raise DependencyUnavailable("ledger", "the indicators are kept at the hub")

    async def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        raise DependencyUnavailable("ledger", "dead letters are handled at the hub")

    async def redrive(self, request: RedriveRequest) -> RedriveAnswer:
        raise DependencyUnavailable("ledger", "dead letters are handled at the hub")

    async def verify(self) -> VerifyAnswer:
        raise DependencyUnavailable("ledger", "the ledger is verified at the hub")

    async def bundle(self, case_id: UUID, read: ReadContext) -> BundleAnswer:
        raise DependencyUnavailable("ledger", "evidence bundles are exported at the hub")

    async def overview(self) -> BusOverview:
        require_connection(self.nc, SERVER)
        levels = []
        with nats_errors():
            for name in (sites.outbox_stream(self.site), sites.status_copy_stream(self.site)):
                info = await self.js.stream_info(name)
                levels.append(StreamLevel(stream=name, messages=info.state.messages))
        return BusOverview(entities=[], streams=levels, dead_letters=0)

    async def ping(self) -> None:
        """Ready when the site's own server answers: the link to the hub is not needed."""
        require_connection(self.nc, SERVER)
        with nats_errors():
            await self.js.stream_info(sites.outbox_stream(self.site))

    async def cases(self) -> list[SiteCase]:
        """Every case the site holds a claim for, oldest first, with the hub's view if back."""
        found = []
        for case_id in await self.claims.case_ids():
            claim = await self.claims.get(case_id)
            if claim is None:
                continue
            view = await self._status(claim.case_id)
            found.append(
                SiteCase(
                    case_id=claim.case_id,
                    procedure=claim.procedure,
                    submitted_at=claim.claimed_at,
                    forwarded=view is not None,
                    status=view.status if view else sites.PENDING_FORWARD,
                    view=view,
                )
            )
        return sorted(found, key=lambda c: c.submitted_at)

    async def _status(self, case_id: UUID) -> CaseView | None:
        require_connection(self.nc, SERVER)
        with nats_errors():
            try:
                msg = await self.js.get_last_msg(
                    sites.status_copy_stream(self.site), sites.case_status(self.site, case_id)
                )
            except NotFoundError:
                return None
        try:
            return CaseView.model_validate_json(msg.data or b"")
        except ValidationError:
            raise DependencyUnavailable("nats", "unreadable status from the hub") from None
