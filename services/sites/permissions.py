"""What a site's leaf node may do on the hub, and what the hub's site relay may do.

The hub's server enforces both. For a leaf-node connection, `publish` is what the site may send
into the hub and `subscribe` is what the hub may send to the site (checked on nats-server
2.15.1: with these lists the hub's source of the site's outgoing stream and the site's copy of
its status stream both flow, while a site writing into its own status stream, reading another
site's status stream or asking about it, and the hub writing into a site's outgoing stream, are
all refused).

- The site answers the hub's source consumer on its own outgoing stream (`$JSC.R.*` replies,
  deliveries under its inbound prefix, flow control of its own stream) and creates a consumer on
  its own status stream at the hub, nothing else: it never publishes a `SubmitCase` on the hub
  (the relay does, after checking the channel).
- The hub may ask the site's JetStream only about the site's outgoing stream, and deliver only
  the site's own statuses.
"""

from schemas import sites, subjects
from services.bus.permissions import JS_API, BusUser, inbox_prefix

from .bundle import leaf_user_name

SITE_RELAY = "site-relay"


def _flow_control(stream: str) -> tuple[str, ...]:
    # The server uses both forms: $JS.FC.<stream>.<consumer>.* and, across domains,
    # $JS.FC.<domain>.<hash>.<stream>.<consumer>.*
    return (f"$JS.FC.{stream}.>", f"$JS.FC.*.*.{stream}.>")


def site_leaf_user(site: str) -> BusUser:
    hub_api = sites.js_api(sites.HUB_DOMAIN)
    site_api = sites.js_api(sites.site_domain(site))
    outbox, status = sites.outbox_stream(site), sites.status_stream(site)
    return BusUser(
        name=leaf_user_name(site),
        publish=(
            "$JSC.R.*",
            f"{sites.inbound_deliver_prefix(site)}.>",
            *_flow_control(status),
            f"{hub_api}.CONSUMER.CREATE.{status}.>",
            f"{hub_api}.CONSUMER.CREATE.{status}",
        ),
        subscribe=(
            "$JSC.R.*",
            f"{sites.status_deliver_prefix(site)}.>",
            *_flow_control(outbox),
            f"{site_api}.CONSUMER.CREATE.{outbox}",
            f"{site_api}.CONSUMER.CREATE.{outbox}.>",
            f"{site_api}.CONSUMER.DELETE.{outbox}.>",
        ),
    )


def site_relay_user(site_ids: tuple[str, ...]) -> BusUser:
    """The hub's relay: hands the sites' cases to the ledger, their statuses back to them."""
    inbound = tuple(
        subject
        for site in site_ids
        for subject in (
            f"{JS_API}.CONSUMER.INFO.{sites.inbound_stream(site)}.{sites.relay_consumer(site)}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{sites.inbound_stream(site)}.{sites.relay_consumer(site)}",
            f"$JS.ACK.{sites.inbound_stream(site)}.{sites.relay_consumer(site)}.>",
            f"{JS_API}.STREAM.INFO.{sites.inbound_stream(site)}",
            f"{JS_API}.STREAM.INFO.{sites.status_stream(site)}",
            f"{JS_API}.STREAM.MSG.GET.{sites.inbound_stream(site)}",
            subjects.channel_submissions(sites.site_channel(site)),
            f"{subjects.PREFIX}.site.{site}.status.*",
        )
    )
    statuses, statuses_consumer = (
        subjects.kv_stream(subjects.STATUS_BUCKET),
        sites.RELAY_STATUSES_CONSUMER,
    )
    return BusUser(
        name=SITE_RELAY,
        publish=(
            *inbound,
            # The status read model, through its own durable consumer only: never a KV put.
            f"{JS_API}.CONSUMER.INFO.{statuses}.{statuses_consumer}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{statuses}.{statuses_consumer}",
            f"$JS.ACK.{statuses}.{statuses_consumer}.>",
            subjects.dead_letter(SITE_RELAY),
            # The clerks' reads at the site, for the citizens' access log.
            subjects.LEDGER_RECORD_READ,
        ),
        subscribe=(f"{inbox_prefix(SITE_RELAY)}.>",),
    )
