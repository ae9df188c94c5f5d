"""The hub's side of its sites: their users on the hub's server, and their streams.

For each registered site the hub keeps
- an inbound stream that sources the site's outgoing stream through `$JS.<site>.API`, so the
  site's cases cross the link by JetStream's own source mechanism, which resumes where it left
  off after any outage (no request/reply of ours crosses the link);
- a status stream with the latest view of each of the site's cases, which the site copies;
- the relay's durable consumer on the inbound stream;
- and, for all sites together, the relay's durable consumer on the status read model (the KV
  bucket's stream), from which it fills each site's status stream.
"""

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import NotFoundError

from schemas import sites, subjects
from services.bus.permissions import BusUser
from services.bus.topology import DAY, DUPLICATE_WINDOW, ensure_stream
from services.stack.nats_config import Leafnodes, ensure_seed

from .bundle import DEMO_SITE, SiteBundle, public_key, registered_sites, write_bundle
from .permissions import SITE_RELAY, site_leaf_user, site_relay_user

RELAY_ACK_WAIT = 30.0


def hub_site_users(users_dir: Path, bundles: list[SiteBundle]) -> list[tuple[BusUser, str]]:
    """The relay (its seed beside the hub's other users) and each site's leaf user."""
    relay = site_relay_user(tuple(b.site for b in bundles))
    users = [(relay, ensure_seed(users_dir, SITE_RELAY))]
    users += [(site_leaf_user(b.site), public_key(b)) for b in bundles]
    return users


def inbound_config(site: str) -> StreamConfig:
    return StreamConfig(
        name=sites.inbound_stream(site),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=30 * DAY,
        # A stream with sources and no explicit window gets none since nats-server 2.14.
        duplicate_window=DUPLICATE_WINDOW,
        sources=[
            StreamSource(
                name=sites.outbox_stream(site),
                external=ExternalStream(
                    api=sites.js_api(sites.site_domain(site)),
                    deliver=sites.inbound_deliver_prefix(site),
                ),
            )
        ],
    )


def status_config(site: str) -> StreamConfig:
    return StreamConfig(
        name=sites.status_stream(site),
        subjects=[sites.status_subjects(site)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=30 * DAY,
        # Only the latest view of a case matters, so a site back after weeks copies one each.
        max_msgs_per_subject=1,
        duplicate_window=DUPLICATE_WINDOW,
    )


def relay_consumer_config(site: str) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=sites.relay_consumer(site),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=RELAY_ACK_WAIT,
        max_ack_pending=1000,
    )


def statuses_consumer_config() -> ConsumerConfig:
    """The relay's consumer on the status bucket's stream: every view the ledger puts, in
    order; one that starts late (or after weeks down) gets each case's latest (history 1)."""
    return ConsumerConfig(
        durable_name=sites.RELAY_STATUSES_CONSUMER,
        filter_subject=f"$KV.{subjects.STATUS_BUCKET}.{subjects.STATUS_KEY_PREFIX}>",
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=RELAY_ACK_WAIT,
        max_ack_pending=2000,
    )


# The relay followed the ledger's announcements through this consumer before it followed the
# status read model; a hub that still has it loses it.
RETIRED_EVENTS_CONSUMER = "site-relay-events"
# The relay noted there which site each case came from, and read it back for each status; the
# status names the case's channel, which names its site. A hub that still has it loses it.
RETIRED_SITE_CASES_BUCKET = "ventanilla_site_cases"


async def ensure_hub_sites(js: JetStreamContext, site_ids: list[str], replicas: int = 1) -> None:
    """As the bus owner: the streams and consumers of every site.

    After `ensure_topology`: the relay's statuses consumer is on the status bucket's stream."""
    if not site_ids:
        return
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(RETIRED_SITE_CASES_BUCKET)
    await js.add_consumer(subjects.kv_stream(subjects.STATUS_BUCKET), statuses_consumer_config())
    with contextlib.suppress(NotFoundError):
        await js.delete_consumer(subjects.EVENTS_STREAM, RETIRED_EVENTS_CONSUMER)
    for site in site_ids:
        for config in (inbound_config(site), status_config(site)):
            await ensure_stream(js, replace(config, num_replicas=replicas))
        await js.add_consumer(sites.inbound_stream(site), relay_consumer_config(site))


LEAFNODE_PORT = 7422


@dataclass(frozen=True)
class HubSites:
    """What `ventanilla up` needs to admit its sites: the leafnode port and the sites' users."""

    bundles: list[SiteBundle]
    leafnodes: Leafnodes
    users: list[tuple[BusUser, str]]

    @property
    def site_ids(self) -> list[str]:
        return [b.site for b in self.bundles]

    @property
    def leafnode_url(self) -> str:
        return f"nats-leaf://{self.leafnodes.host}:{self.leafnodes.port}"


def prepare_hub_sites(
    data_root: Path,
    users_dir: Path,
    leafnodes: Leafnodes,
    tokens_file: Path,
    *,
    demo_site: bool = True,
) -> HubSites:
    """Write the demo site's bundle (kept if it exists) and list every registered site."""
    url = f"nats-leaf://{leafnodes.host}:{leafnodes.port}"
    if demo_site:
        tls_ca = leafnodes.tls.ca if leafnodes.tls else None
        write_bundle(data_root, DEMO_SITE, tokens_file=tokens_file, leafnode_url=url, tls_ca=tls_ca)
    bundles = registered_sites(data_root)
    return HubSites(bundles, leafnodes, hub_site_users(users_dir, bundles))
