"""The hub's site relay: each site's cases to the ledger, each case's status back to its site.

Forwarding: the relay takes each `SubmitCase` from a site's inbound stream, checks that the site
sent it as its own channel, publishes it on the commands stream with the case's own
`Nats-Msg-Id`, and only then acks. A crash in between forwards the same command again: the
commands stream drops it within its duplicate window, and the ledger, which records a case id
once, beyond it. That idempotency, not a window, is the guarantee: a site may come back after
days.

Statuses: the relay follows the status read model (the ledger's KV bucket of case views,
services/case_ledger/status_views.py) through its own durable consumer on the bucket's stream,
and publishes each view of a site's case on that site's status subject. A site's case is one
of its channel (`mac-express-<site>`, the only channel a site may submit as), which the view
itself names: a status costs no lookup of where its case came from. The ledger writes a view
after it commits the events behind it, never an older one over a newer, and rewrites what it
may have missed after a crash; the consumer is acked only once the views are on the sites'
streams. So every status the ledger records reaches the site's status stream, which keeps the
latest view per case; the site copies it when its link is up. Nothing crosses the link but
JetStream's own sourcing.

Reads: a clerk's read of a case at a site travels behind the case in the site's outgoing stream,
and the relay hands it to the ledger's access log (`forward_read`, the relay's one question to
the ledger, asked at the hub), so the citizen sees it as a read at the hub.

Stopping: each loop finishes the batch in hand (forwarded or published, then acked) and lets its
subscription go; a fetch waits at most `FETCH_WAIT`, so a stop takes about that long.
"""

import asyncio
from collections.abc import Sequence
from uuid import UUID

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.kv import KV_DEL, KV_OP, KV_PURGE
from pydantic import ValidationError

from schemas import sites, subjects
from schemas.cases import submit_msg_id
from schemas.messages import SubmitCase
from schemas.queries import ReadNotice
from schemas.views import CaseView
from services.bus.dead_letters import dead_letter
from services.bus.fetching import fetch_ready
from services.bus.publishing import publish
from services.gateway.ledger_client import LedgerClient

from .permissions import SITE_RELAY

log = structlog.get_logger(__name__)

BATCH = 200
# How long a loop waits for its next message, hence how long a stop may wait for it.
FETCH_WAIT = 1.0
# A read waits for its case to be recorded: this many tries, this far apart (a minute).
READ_ATTEMPTS, READ_RETRY_S = 30, 2.0
STATUS_VIEWS_STREAM = subjects.kv_stream(subjects.STATUS_BUCKET)
_STATUS_KEYS = f"$KV.{subjects.STATUS_BUCKET}.{subjects.STATUS_KEY_PREFIX}"


class SiteRelay:
    def __init__(self, nc: Client, site_ids: Sequence[str]) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.site_ids = tuple(site_ids)
        self.ledger = LedgerClient(nc)
        self._site_of_channel = {sites.site_channel(site): site for site in self.site_ids}

    async def run(self, stop: asyncio.Event) -> None:
        loops = [self._forward_loop(site, stop) for site in self.site_ids]
        await asyncio.gather(*loops, self._status_loop(stop))

    # --- cases, site → ledger --------------------------------------------------------------

    async def _forward_loop(self, site: str, stop: asyncio.Event) -> None:
        sub = await self._bind(sites.inbound_stream(site), sites.relay_consumer(site), stop)
        if sub is None:
            return
        try:
            while not stop.is_set():
                try:
                    # Cases are independent of each other: forward a batch's together (measured:
                    # one at a time, a 1,000-case backlog went at 28 cases/s).
                    batch = await fetch_ready(sub, BATCH, FETCH_WAIT)
                    await asyncio.gather(*(self.forward(site, m) for m in batch))
                except Exception as exc:  # NATS away or the commands stream full: try again
                    log.warning("site forward failed", site=site, error=repr(exc))
                    await asyncio.sleep(1.0)
        finally:
            await _let_go(sub)

    async def forward(self, site: str, msg: Msg) -> None:
        if msg.subject == sites.outbox_read_notice(site, sites.site_channel(site)):
            await self.forward_read(site, msg)
            return
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
        await publish(
            self.js,
            subjects.submit_case(channel, case_id),
            msg.data,
            msg_id=submit_msg_id(case_id),
        )
        await msg.ack()
        log.info("site case forwarded", site=site, case_id=str(case_id))

    async def forward_read(self, site: str, msg: Msg) -> None:
        """A clerk's read at the site, recorded in the ledger's access log like one at the hub.

        The ledger records a read for each citizen of a case it holds: none while the case
        itself is still on its way (forwarded in the same batch), so the read waits and comes
        again. A read is recorded at least once: a relay that stops between the ledger's answer
        and the ack records it a second time.
        """
        try:
            notice = ReadNotice.model_validate_json(msg.data)
        except ValidationError as exc:
            await self._reject(msg, f"not a ReadNotice: {exc.error_count()} errors")
            return
        read, channel = notice.read, sites.site_channel(site)
        # A site's readers are its clerks and its own channel; any refusal is worth a record.
        own = read.reader_kind == "clerk" or (read.reader_kind, read.reader_id) == (
            "channel",
            channel,
        )
        if not (own or read.refused):
            await self._reject(msg, f"site {site} may report only its own readers' reads")
            return
        citizens = await self.ledger.record_read(notice)
        if citizens == 0:
            if msg.metadata.num_delivered >= READ_ATTEMPTS:
                await self._reject(msg, "the case of this read is not in the ledger")
            else:
                await msg.nak(delay=READ_RETRY_S)
            return
        await msg.ack()
        log.info("site read recorded", site=site, case_id=str(notice.case_id))

    async def _reject(self, msg: Msg, reason: str) -> None:
        log.warning("site message dead-lettered", reason=reason)
        await dead_letter(self.js, SITE_RELAY, msg, reason)
        await msg.ack()

    # --- statuses, ledger → site -----------------------------------------------------------

    async def _status_loop(self, stop: asyncio.Event) -> None:
        sub = await self._bind(STATUS_VIEWS_STREAM, sites.RELAY_STATUSES_CONSUMER, stop)
        if sub is None:
            return
        try:
            while not stop.is_set():
                await self._statuses_round(sub)
        finally:
            await _let_go(sub)

    async def _statuses_round(self, sub: JetStreamContext.PullSubscription) -> None:
        try:
            msgs = await fetch_ready(sub, BATCH, FETCH_WAIT)
        except Exception as exc:  # NATS away: fetch again, as the forward loops do
            log.warning("site statuses fetch failed", error=repr(exc))
            await asyncio.sleep(1.0)
            return
        if not msgs:
            return
        try:
            await self.send_statuses(msgs)
        except Exception as exc:  # NATS away: the views come again
            log.warning("site statuses failed", error=repr(exc))
            for msg in msgs:
                await msg.nak(delay=1.0)
            await asyncio.sleep(1.0)
            return
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
            view = CaseView.model_validate_json(data)
        except ValidationError:
            log.error("unreadable case status in the bucket", case_id=str(case_id))
            return
        site = self._site_of_channel.get(view.channel)
        if site is None:
            return  # a case from a channel that is not a site
        await publish(
            self.js,
            sites.case_status(site, case_id),
            data,  # the bucket's bytes as they are: the view, checked above
            msg_id=f"status:{case_id}:{view.version}",
        )

    # --- plumbing --------------------------------------------------------------------------

    async def _bind(
        self, stream: str, durable: str, stop: asyncio.Event
    ) -> JetStreamContext.PullSubscription | None:
        """Bind to a consumer the bus owner made; wait for it while the topology is missing.

        None: told to stop before the consumer was there."""
        while not stop.is_set():
            try:
                return await self.js.pull_subscribe_bind(durable, stream=stream)
            except Exception as exc:
                log.info("waiting for consumer", stream=stream, consumer=durable, error=repr(exc))
                await asyncio.sleep(1.0)
        return None


async def _let_go(sub: JetStreamContext.PullSubscription) -> None:
    """Unsubscribe a pull subscription, so that the connection's drain does not wait for it.

    nats-py's `fetch` takes messages off the subscription's queue without marking them done, and
    a drain waits until every queued message is done: one that fetched anything at all held the
    relay's stop for the whole drain timeout (30 s, measured), past the supervisor's grace. A
    message fetched and not acked (none after a finished batch) is delivered again after the
    consumer's ack wait."""
    try:
        await sub.unsubscribe()
    except Exception as exc:  # the connection is gone already: nothing is left to let go
        log.info("could not unsubscribe", error=repr(exc))
