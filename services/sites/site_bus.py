"""The case bus of a site's gateway: everything it needs is on the site's own server.

A submission is claimed in the site's claims bucket (the same rule as at the hub: the same key
and body is a repeat, the same key with another body a conflict) and published to the site's
outgoing stream; the 202 does not depend on the link. A case's status is the latest view the
hub sent back, copied into the site's status stream; until then, the claim says the case is
`submitted` and waiting to be forwarded. Nothing here asks the hub anything.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

import nats.errors
from nats.aio.client import Client
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas import sites
from schemas.cases import submit_msg_id
from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.messages import SubmitCase
from schemas.queries import BundleAnswer, ReadContext, VerifyAnswer
from schemas.sla import SlaQuery, SlaReport
from schemas.views import BusOverview, CaseHistory, CaseView, CitizenAccessLog, StreamLevel
from services.bus.publishing import publish
from services.gateway.case_bus import (
    Claim,
    DependencyUnavailable,
    IdempotencyConflict,
    SubmitOutcome,
    claim_of,
    submitted_history,
    submitted_view,
)
from services.gateway.nats_case_bus import claim_key, claim_value, stored_claim


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
        self._kv: KeyValue | None = None

    async def submit(self, command: SubmitCase) -> SubmitOutcome:
        claim = claim_of(command)
        outcome = await self._claim(claim)
        with _nats_errors():
            await publish(
                self.js,
                sites.outbox_submit_case(self.site, claim.channel),
                command,
                msg_id=submit_msg_id(claim.case_id),
                ack_timeout=self.publish_timeout,
                give_up_after=5.0,
            )
        return outcome

    async def case(self, case_id: UUID) -> CaseView | None:
        view = await self._status(case_id)
        if view is not None:
            return view
        claim = await self._existing_claim(case_id)
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
        claim = await self._existing_claim(case_id)
        return submitted_history(claim) if claim else None

    async def access_log(
        self, document_number: str, *, read: ReadContext | None = None
    ) -> CitizenAccessLog:
        raise DependencyUnavailable("ledger", "the access log is kept at the hub")

    async def sla(self, query: SlaQuery) -> SlaReport:
        raise DependencyUnavailable("ledger", "the ANS report is kept at the hub")

    async def record_read(self, case_id: UUID, read: ReadContext) -> int:
        raise DependencyUnavailable("ledger", "reads are recorded at the hub")

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
        self._require_connection()
        levels = []
        with _nats_errors():
            for name in (sites.outbox_stream(self.site), sites.status_copy_stream(self.site)):
                info = await self.js.stream_info(name)
                levels.append(StreamLevel(stream=name, messages=info.state.messages))
        return BusOverview(entities=[], streams=levels, dead_letters=0)

    async def ping(self) -> None:
        """Ready when the site's own server answers: the link to the hub is not needed."""
        self._require_connection()
        with _nats_errors():
            await self.js.stream_info(sites.outbox_stream(self.site))

    async def cases(self) -> list[SiteCase]:
        """Every case the site holds a claim for, oldest first, with the hub's view if back."""
        self._require_connection()
        # The bucket's subjects, from the stream's state: nats-py's `kv.keys()` watches the
        # bucket and was seen (2.16.0) to end before the first key, returning none at all.
        prefix = f"$KV.{sites.CLAIMS_BUCKET}."
        with _nats_errors():
            info = await self.js.stream_info(f"KV_{sites.CLAIMS_BUCKET}", subjects_filter=">")
        keys = [s.removeprefix(prefix) for s in (info.state.subjects or {})]
        found = []
        for key in keys:
            claim = await self._existing_claim(UUID(hex=key.removeprefix("case.")))
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
        self._require_connection()
        with _nats_errors():
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

    # --- idempotency claims, as at the hub ---------------------------------------------------

    async def _claim(self, claim: Claim) -> SubmitOutcome:
        kv = await self._bucket()
        with _nats_errors():
            try:
                await kv.create(claim_key(claim.case_id), claim_value(claim))
                return "accepted"
            except KeyWrongLastSequenceError:
                pass
        existing = await self._existing_claim(claim.case_id)
        if existing is None:
            raise DependencyUnavailable("nats", "idempotency claim vanished")
        if existing.fingerprint != claim.fingerprint or existing.channel != claim.channel:
            raise IdempotencyConflict(claim.case_id)
        return "repeat"

    async def _existing_claim(self, case_id: UUID) -> Claim | None:
        kv = await self._bucket()
        with _nats_errors():
            try:
                entry = await kv.get(claim_key(case_id))
            except KeyNotFoundError:
                return None
        return stored_claim(case_id, entry.value or b"")

    async def _bucket(self) -> KeyValue:
        self._require_connection()
        if self._kv is None:
            with _nats_errors():
                self._kv = await self.js.key_value(sites.CLAIMS_BUCKET)
        return self._kv

    def _require_connection(self) -> None:
        if not self.nc.is_connected:
            raise DependencyUnavailable("nats", "not connected to the site's NATS")


@contextmanager
def _nats_errors() -> Iterator[None]:
    try:
        yield
    except (TimeoutError, nats.errors.Error) as exc:
        raise DependencyUnavailable("nats", type(exc).__name__) from None
