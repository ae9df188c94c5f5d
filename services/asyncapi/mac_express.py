"""The MAC Express sites' part of the bus: a site's outgoing cases and reads, and its cases'
statuses."""

from schemas import sites
from schemas.queries import ReadNotice
from schemas.views import CaseView

from .builder import AsyncApiWriter, Message
from .headers import HEX_CASE_ID
from .ledger import submit_case_message
from .roles import SITE, SITE_RELAY_ROLE


def site_channels(w: AsyncApiWriter) -> None:
    site = {"description": "The MAC Express site's id.", "examples": ["pias-napo"]}
    channel_parameter = {
        "description": "The site's channel.",
        "examples": [sites.site_channel("pias-napo")],
    }
    outbox = w.channel(
        "site.outbox",
        sites.outbox_submit_case("{site}", "{channel}"),
        "At a MAC Express site: the cases its advisor took, in the site's own outgoing stream; "
        "the hub sources them over the leaf link into the site's inbound stream.",
        (submit_case_message(w),),
        parameters={"site": site, "channel": channel_parameter},
    )
    w.operation("site.take-case", "send", outbox, SITE, "Keep a case until the link is up.")
    w.operation(
        "site-relay.take-site-cases",
        "receive",
        outbox,
        SITE_RELAY_ROLE,
        "Take a site's case from the hub's inbound copy.",
    )
    reads = w.channel(
        "site.reads",
        sites.outbox_read_notice("{site}", "{channel}"),
        "At a MAC Express site: each read of a case's personal data by the site's clerks, behind "
        "the case in the site's outgoing stream; the hub's relay hands it to the ledger's access "
        "log once the case is recorded.",
        (
            Message(
                name="ReadNotice",
                key="ReadNotice",
                title="A read at the site",
                payload=w.schema(ReadNotice),
            ),
        ),
        parameters={"site": site, "channel": channel_parameter},
    )
    w.operation("site.report-read", "send", reads, SITE, "Keep a clerk's read for the hub.")
    w.operation(
        "site-relay.take-site-reads",
        "receive",
        reads,
        SITE_RELAY_ROLE,
        "Hand a site's read to the ledger's access log.",
    )
    status = w.channel(
        "site.status",
        sites.status_subjects("{site}").removesuffix(">") + "{case_id}",
        "At the hub: the latest status of each of a site's cases; the site copies it.",
        (
            Message(
                name="CaseView", key="CaseView", title="A case's status", payload=w.schema(CaseView)
            ),
        ),
        parameters={"site": site, "case_id": HEX_CASE_ID},
    )
    w.operation("site-relay.send-status", "send", status, SITE_RELAY_ROLE, "Send a status back.")
    w.operation("site.copy-status", "receive", status, SITE, "Copy its cases' statuses.")
