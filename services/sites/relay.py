"""The hub's site relay: each site's cases to the ledger, each case's status back to its site.

Forwarding: the relay takes each `SubmitCase` from a site's inbound stream, checks that the site
sent it as its own channel, notes which site the case came from, publishes it on the commands
stream with the case's own `Nats-Msg-Id`, and only then acks. A crash in between forwards the
same command again: the commands stream drops it within its duplicate window, and the ledger,
which records a case id once, beyond it. That idempotency, not a window, is the guarantee: a
site may come back after days.

Statuses: the relay follows the status read model (the ledger's KV bucket of case views,
services/case_ledger/status_views.py) through its own durable consumer on the bucket's stream,
and publishes each view of a case that came from a site on that site's status subject. The
ledger writes a view after it commits the events behind it, never an older one over a newer,
and rewrites what it may have missed after a crash; the consumer is acked only once the views
are on the sites' streams. So every status the ledger records reaches the site's status
stream, which keeps the latest view per case; the site copies it when its link is up. Nothing
here asks the ledger a question, and nothing crosses the link but JetStream's own sourcing.
"""

import asyncio
from collections.abc import Sequence
from uuid import UUID

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KV_DEL, KV_OP, KV_PURGE, KeyValue
from pydantic import ValidationError

from schemas import sites, subjects
from schemas.cases import submit_msg_id
from schemas.messages import SubmitCase
from schemas.views import CaseView
from services.bus.dead_letters import dead_letter
from services.bus.fetching import fetch_ready
from services.bus.publishing import publish

from .permissions import SITE_RELAY

log = structlog.get_logger(__name__)

BATCH = 200
STATUS_VIEWS_STREAM = subjects.kv_stream(subjects.STATUS_BUCKET)
_STATUS_KEYS = f"$KV.{subjects.STATUS_BUCKET}.{subjects.STATUS_KEY_PREFIX}"


class SiteRelay:
    def __init__(self, nc: Client, site_ids: Sequence[str]) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.site_ids = tuple(site_ids)
        self._kv: KeyValue | None = None

    async def run(self, stop: asyncio.Event) -> None:
        loops = [self._forward_loop(site, stop) for site in self.site_ids]
        await asyncio.gather(*loops, self._status_loop(stop))

    # --- cases, site → ledger --------------------------------------------------------------

    async def _forward_loop(self, site: str, stop: asyncio.Event) -> None:
        sub = await self._bind(sites.inbound_stream(site), sites.relay_consumer(site), stop)
        while not stop.is_set():
            try:
                # Cases are independent of each other: forward a batch's together (measured:
                # one at a time, a 1,000-case backlog went at 28 cases/s).
                await asyncio.gather(
                    *(self.forward(site, m) for m in await fetch_ready(sub, BATCH))
                )
            except Exception as exc:  # NATS away or the commands stream full: try again
                log.warning("site forward failed", site=site, error=repr(exc))
                await asyncio.sleep(1.0)

    async def forward(self, site: str, msg: Msg) -> None:
        channel = sites.site_channel(site)
        try:
            command = SubmitCase.model_validate_json(msg.data)
        except ValidationError as exc:
            await self._reject(msg, f"not a SubmitCase: {exc.error_count()} errors")
            return
        actor = command.envelope.actor
        own = sites.outbox_submit_case(site, channel)
        if msg.subject != own or actor.kind != "channel" or actor.id != channel:
            await self._reject(msg, f"site {site} may submit only as {channel}")
            return
        case_id = command.envelope.case_id
        await (await self._bucket()).put(case_id.hex, site.encode())
        await publish(
            self.js,
            subjects.submit_case(channel, case_id),
            msg.data,
            msg_id=submit_msg_id(case_id),
        )
        await msg.ack()
        log.info("site case forwarded", site=site, case_id=str(case_id))

    async def _reject(self, msg: Msg, reason: str) -> None:
        log.warning("site message dead-lettered", reason=reason)
        await dead_letter(self.js, SITE_RELAY, msg, reason)
        await msg.ack()

    # --- statuses, ledger → site -----------------------------------------------------------

    async def _status_loop(self, stop: asyncio.Event) -> None:
        sub = await self._bind(STATUS_VIEWS_STREAM, sites.RELAY_STATUSES_CONSUMER, stop)
        while not stop.is_set():
            msgs = await fetch_ready(sub, BATCH)
            if not msgs:
                continue
            try:
                await self.send_statuses(msgs)
            except Exception as exc:  # NATS away: the views come again
                log.warning("site statuses failed", error=repr(exc))
                for msg in msgs:
                    await msg.nak(delay=1.0)
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                await msg.ack()

    async def send_statuses(self, msgs: list[Msg]) -> None:
        """The last view of each case of the batch (in stream order: the newest) to its site.

        A site's status never goes back to an older view: the consumer delivers the bucket's
        stream in order, and the bucket keeps one message per case, so a view superseded
        before its ack is gone and never delivered again (a failed round, a relay restarted)."""
        views: dict[UUID, bytes] = {}
        for msg in msgs:
            try:
                case_id = UUID(hex=msg.subject[len(_STATUS_KEYS) :])
            except ValueError:
                continue  # not a case key
            if msg.headers and msg.headers.get(KV_OP) in (KV_DEL, KV_PURGE):
                views.pop(case_id, None)
                continue
            views[case_id] = msg.data
        await asyncio.gather(*(self._status_if_from_a_site(c, v) for c, v in views.items()))

    async def _status_if_from_a_site(self, case_id: UUID, data: bytes) -> None:
        try:
            site = (await (await self._bucket()).get(case_id.hex)).value
        except KeyNotFoundError:
            return  # a case from a channel that is not a site
        if not site:
            return
        try:
            view = CaseView.model_validate_json(data)
        except ValidationError:
            log.error("unreadable case status in the bucket", case_id=str(case_id))
            return
        await publish(
            self.js,
            sites.case_status(site.decode(), case_id),
            data,  # the bucket's bytes as they are: the view, checked above
            msg_id=f"status:{case_id}:{view.version}",
        )

    # --- plumbing --------------------------------------------------------------------------

    async def _bind(
        self, stream: str, durable: str, stop: asyncio.Event
    ) -> JetStreamContext.PullSubscription:
        """Bind to a consumer the bus owner made; wait for it while the topology is missing."""
        while True:
            try:
                return await self.js.pull_subscribe_bind(durable, stream=stream)
            except Exception as exc:
                if stop.is_set():
                    raise
                log.info("waiting for consumer", stream=stream, consumer=durable, error=repr(exc))
                await asyncio.sleep(1.0)

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            self._kv = await self.js.key_value(sites.SITE_CASES_BUCKET)
        return self._kv
