"""The site's own streams, in its own JetStream domain.

- The outgoing stream: every case the advisor took. Limits retention with a long `max_age`
  (WorkQueue and Interest retention lose messages over an intermittent leaf link,
  nats-server#3207), and an explicit duplicate window so that a retried submission is stored
  once.
- The status copy: the site's copy of the hub's status stream for this site, with a filter on
  the site's own subjects; only the latest view of each case is kept.
- The claims bucket: which request each case id was claimed by, so that the same key with
  another body is refused at the site as it is at the hub.
"""

from nats.js import JetStreamContext
from nats.js.api import (
    ExternalStream,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import NotFoundError

from schemas import sites
from services.bus.topology import DAY, DUPLICATE_WINDOW, ensure_stream

from .bundle import SiteBundle

OUTBOX_MAX_AGE = 30 * DAY
OUTBOX_DUPLICATE_WINDOW = 1 * DAY
CLAIMS_TTL = 90 * DAY


def outbox_config(site: str) -> StreamConfig:
    return StreamConfig(
        name=sites.outbox_stream(site),
        subjects=[sites.outbox_subjects(site)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=OUTBOX_MAX_AGE,
        duplicate_window=OUTBOX_DUPLICATE_WINDOW,
    )


def status_copy_config(bundle: SiteBundle) -> StreamConfig:
    site = bundle.site
    return StreamConfig(
        name=sites.status_copy_stream(site),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=OUTBOX_MAX_AGE,
        max_msgs_per_subject=1,
        # A stream with sources and no explicit window gets none since nats-server 2.14.
        duplicate_window=DUPLICATE_WINDOW,
        sources=[
            StreamSource(
                name=sites.status_stream(site),
                filter_subject=sites.status_subjects(site),
                external=ExternalStream(
                    api=sites.js_api(bundle.manifest.hub_domain),
                    deliver=sites.status_deliver_prefix(site),
                ),
            )
        ],
    )


async def ensure_site_topology(js: JetStreamContext, bundle: SiteBundle) -> None:
    for config in (outbox_config(bundle.site), status_copy_config(bundle)):
        await ensure_stream(js, config)
    try:
        await js.key_value(sites.CLAIMS_BUCKET)
    except NotFoundError:
        await js.create_key_value(
            KeyValueConfig(
                bucket=sites.CLAIMS_BUCKET, history=1, ttl=CLAIMS_TTL, storage=StorageType.FILE
            )
        )
