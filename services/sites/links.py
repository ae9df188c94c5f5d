"""How each site's link looks from the hub: last contact, backlog, last forward.

Read from the hub's inbound stream of the site (its source's `active` and `lag`, its last
message) and from the relay's consumer on it. While a link is down the hub cannot know what the
site has taken since: the backlog is what the site reported at the last contact, plus what the
hub holds and the relay has not handed to the ledger yet.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.client import Client

from schemas import sites
from schemas.sites import SiteLink
from services.bus.permissions import JS_API

# A connected site's source reports within a few seconds (its heartbeats); beyond this, down.
SILENT_AFTER = timedelta(seconds=10)
INFO_TIMEOUT = 2.0


async def site_links(nc: Client, site_ids: Sequence[str]) -> list[SiteLink]:
    return [await site_link(nc, site) for site in site_ids]


async def site_link(nc: Client, site: str) -> SiteLink:
    now = datetime.now(UTC)
    stream = await _info(nc, f"{JS_API}.STREAM.INFO.{sites.inbound_stream(site)}")
    consumer = await _info(
        nc,
        f"{JS_API}.CONSUMER.INFO.{sites.inbound_stream(site)}.{sites.relay_consumer(site)}",
    )
    source: dict[str, Any] = next(iter(stream.get("sources") or []), {})
    active_ns = source.get("active", -1)
    last_contact = (
        now - timedelta(microseconds=active_ns / 1000)
        if active_ns is not None and active_ns >= 0
        else None
    )
    state: dict[str, Any] = stream.get("state", {})
    forwarded = int(state.get("last_seq", 0))
    waiting_at_hub = int(consumer.get("num_pending", 0)) + int(consumer.get("num_ack_pending", 0))
    return SiteLink(
        site=site,
        channel=sites.site_channel(site),
        connected=last_contact is not None and now - last_contact < SILENT_AFTER,
        last_contact=last_contact,
        backlog=int(source.get("lag", 0) or 0) + waiting_at_hub,
        last_forward=_time(state.get("last_ts")) if forwarded else None,
        forwarded=forwarded,
    )


async def _info(nc: Client, subject: str) -> dict[str, Any]:
    reply = await nc.request(subject, b"", timeout=INFO_TIMEOUT)
    answer: dict[str, Any] = json.loads(reply.data)
    if "error" in answer:
        raise LookupError(f"{subject}: {answer['error'].get('description', answer['error'])}")
    return answer


def _time(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-"):
        return None
    # The server writes nanoseconds; Python keeps microseconds.
    head, _, rest = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(rest + '000000')[:6]}+00:00")
