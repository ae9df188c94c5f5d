"""The hub's site relay: each site's cases to the ledger, each case's status back to its site.

Forwarding: the relay takes each `SubmitCase` from a site's inbound stream, checks that the site
sent it as its own channel, notes which site the case came from, publishes it on the commands
stream with the case's own `Nats-Msg-Id`, and only then acks. A crash in between forwards the
same command again: the commands stream drops it within its duplicate window, and the ledger,
which records a case id once, beyond it. That idempotency, not a window, is the guarantee: a
site may come back after days.

Statuses: for every ledger event of a case that came from a site, the relay asks the ledger
(here, at the hub) for the case's view and publishes it on the site's status subject. The
site's status stream keeps the latest view per case; the site copies it when its link is up.
"""

import asyncio
from collections.abc import Sequence
from uuid import UUID

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from schemas import sites, subjects
from schemas.cases import submit_msg_id
from schemas.messages import LedgerEvent, SubmitCase
from schemas.queries import CaseAnswer, CaseQuery
from schemas.views import CaseView
from services.bus.dead_letters import dead_letter
from services.bus.fetching import fetch_ready
from services.bus.publishing import publish

from .permissions import SITE_RELAY

log = structlog.get_logger(__name__)

BATCH = 200
QUERY_TIMEOUT = 5.0
# Questions to the ledger in flight at once: enough to hide the round trips, few enough not to
# crowd out the ledger's own work.
QUERIES_IN_FLIGHT = 16


class SiteRelay:
    def __init__(self, nc: Client, site_ids: Sequence[str]) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.site_ids = tuple(site_ids)
        self._kv: KeyValue | None = None
        self._queries = asyncio.Semaphore(QUERIES_IN_FLIGHT)

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
            subjects.submit_case(channel),
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
        sub = await self._bind(subjects.EVENTS_STREAM, sites.RELAY_EVENTS_CONSUMER, stop)
        while not stop.is_set():
            msgs = await fetch_ready(sub, BATCH)
            if not msgs:
                continue
            try:
                await self.send_statuses(msgs)
            except Exception as exc:  # the ledger or NATS away: the events come again
                log.warning("site statuses failed", error=repr(exc))
                for msg in msgs:
                    await msg.nak(delay=1.0)
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                await msg.ack()

    async def send_statuses(self, msgs: list[Msg]) -> None:
        """One view per case of the batch: the ledger's latest covers every event before it."""
        cases: dict[UUID, None] = {}
        for msg in msgs:
            try:
                cases[LedgerEvent.model_validate_json(msg.data).envelope.case_id] = None
            except ValidationError:
                continue  # not ours to judge: the events stream's other readers report it
        await asyncio.gather(*(self._status_if_from_a_site(case_id) for case_id in cases))

    async def _status_if_from_a_site(self, case_id: UUID) -> None:
        try:
            site = (await (await self._bucket()).get(case_id.hex)).value
        except KeyNotFoundError:
            return  # a case from a channel that is not a site
        if site:
            await self._send_status(site.decode(), case_id)

    async def _send_status(self, site: str, case_id: UUID) -> None:
        query = CaseQuery(case_id=case_id).model_dump_json().encode()
        async with self._queries:
            reply = await self.nc.request(subjects.LEDGER_QUERY_CASE, query, timeout=QUERY_TIMEOUT)
        answer = CaseAnswer.model_validate_json(reply.data)
        if not answer.found or answer.case is None:
            raise LookupError(f"the ledger does not know case {case_id} yet")
        view: CaseView = answer.case
        await publish(
            self.js,
            sites.case_status(site, case_id),
            view,
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
