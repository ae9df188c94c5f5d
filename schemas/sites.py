"""MAC Express sites: the names of what a site and the hub share over the leaf link, and the
view of a site's link that operators read.

A site (a PIAS river boat, a Tambo) runs its own nats-server as a leaf node of the hub with its
own JetStream domain. Its outgoing stream holds the cases its advisor took; the hub sources it
into a per-site inbound stream. The hub keeps a per-site status stream, which the site copies.
Every name here carries the site id, so the hub's server can let each site reach only its own.
"""

import re
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.subjects import PREFIX

HUB_DOMAIN = "hub"
SITE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
SITE_CHANNEL_PREFIX = "mac-express-"
# What the advisor's receipt says while the case waits at the site for the link.
PENDING_FORWARD = "pendiente de envío"


class InvalidSiteId(ValueError):
    """A site id must be lower-case letters, digits and inner hyphens (it names subjects)."""


def check_site_id(site: str) -> str:
    if not SITE_ID.match(site):
        raise InvalidSiteId(f"{site!r} is not a site id: lower-case letters, digits and hyphens")
    return site


def site_channel(site: str) -> str:
    """The channel of a site's kiosk: `pias-napo` → `mac-express-pias-napo`."""
    return f"{SITE_CHANNEL_PREFIX}{site}"


def site_domain(site: str) -> str:
    """The site's JetStream domain: the site id itself."""
    return site


def _token(site: str) -> str:
    return check_site_id(site).upper().replace("-", "_")


# --- at the site -----------------------------------------------------------------------------


def outbox_stream(site: str) -> str:
    """The site's outgoing stream: every case its advisor took, kept until long after the hub
    has it (Limits retention; WorkQueue and Interest lose messages over a leaf link)."""
    return f"VENTANILLA_SITE_OUT_{_token(site)}"


def outbox_subjects(site: str) -> str:
    return f"{PREFIX}.site.{site}.out.>"


def outbox_submit_case(site: str, channel: str) -> str:
    return f"{PREFIX}.site.{site}.out.submit-case.{channel}"


def outbox_read_notice(site: str, channel: str) -> str:
    """A clerk's read of a case's personal data at the site, for the hub's access log."""
    return f"{PREFIX}.site.{site}.out.read-notice.{channel}"


def status_copy_stream(site: str) -> str:
    """The site's copy of the hub's status stream for this site."""
    return f"VENTANILLA_SITE_STATUS_COPY_{_token(site)}"


CLAIMS_BUCKET = "ventanilla_site_claims"

# --- at the hub ------------------------------------------------------------------------------


def inbound_stream(site: str) -> str:
    """The hub's copy of a site's outgoing stream, sourced through `$JS.<site>.API`."""
    return f"VENTANILLA_SITE_IN_{_token(site)}"


def status_stream(site: str) -> str:
    """The hub's stream of the latest status of each of the site's cases."""
    return f"VENTANILLA_SITE_STATUS_{_token(site)}"


def status_subjects(site: str) -> str:
    return f"{PREFIX}.site.{site}.status.>"


def case_status(site: str, case_id: UUID) -> str:
    return f"{PREFIX}.site.{site}.status.{case_id.hex}"


def inbound_deliver_prefix(site: str) -> str:
    """Where the site delivers its outgoing stream to the hub's source consumer."""
    return f"{PREFIX}.site.{site}.in"


def status_deliver_prefix(site: str) -> str:
    """Where the hub delivers the site's statuses to the site's copy."""
    return f"{PREFIX}.site.{site}.back"


def js_api(domain: str) -> str:
    return f"$JS.{domain}.API"


def relay_consumer(site: str) -> str:
    """The hub relay's durable consumer on a site's inbound stream."""
    return f"site-relay-{site}"


# The relay's durable consumer on the status read model's stream (KV_ventanilla_case_status).
RELAY_STATUSES_CONSUMER = "site-relay-statuses"


class SiteLink(BaseModel):
    """How a site's link looks from the hub."""

    model_config = ConfigDict(frozen=True)

    site: str
    channel: str
    connected: bool = Field(description="The site's leaf node is connected to the hub now.")
    last_contact: datetime | None = Field(
        description="When the hub last heard from the site's outgoing stream (None: never)."
    )
    backlog: int = Field(
        description=(
            "Cases not yet recorded by the hub: those the site reported waiting in its outgoing "
            "stream at the last contact, plus those in the hub's inbound stream not yet "
            "forwarded to the ledger."
        )
    )
    last_forward: datetime | None = Field(
        description="When the last case from this site reached the hub (None: never)."
    )
    forwarded: int = Field(description="Cases from this site the hub has received in all.")
