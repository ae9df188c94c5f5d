"""The case status feed of a site's console: the statuses the hub sent back, watched locally.

The hub keeps the latest view of each of the site's cases in a stream per site, which the site
copies (site_topology.py). The site's gateway watches its copy with one ordered consumer, like
the hub's gateway watches the status bucket (services/gateway/status_watch.py). A case the hub
has sent nothing for yet is the site's own claim: a `submitted` view of version 0, which the
pages read as "pending forwarding".
"""

from uuid import UUID

import structlog
from nats.aio.msg import Msg
from pydantic import ValidationError

from schemas import sites
from schemas.views import CaseView
from services.gateway.status_watch import WatchedStatusFeed

from .site_bus import SiteCaseBus

log = structlog.get_logger(__name__)


class SiteStatusFeed(WatchedStatusFeed):
    """`CaseStatusFeed` on the site's status copy. `start()` it once, `close()` it last."""

    def __init__(self, bus: SiteCaseBus, *, check_every: float = 2.0) -> None:
        super().__init__(bus.nc, check_every=check_every)
        self.bus = bus
        self._prefix = sites.status_subjects(bus.site).removesuffix(">")

    @property
    def watched_stream(self) -> str:
        return sites.status_copy_stream(self.bus.site)

    @property
    def watched_subjects(self) -> str:
        return sites.status_subjects(self.bus.site)

    def case_of(self, subject: str) -> UUID | None:
        if not subject.startswith(self._prefix):
            return None
        try:
            return UUID(hex=subject[len(self._prefix) :])
        except ValueError:
            return None

    def decode(self, case_id: UUID, msg: Msg) -> CaseView | None:
        try:
            return CaseView.model_validate_json(msg.data)
        except ValidationError:
            log.error("unreadable case status from the hub", case_id=str(case_id))
            return None

    async def current(self, case_id: UUID) -> CaseView | None:
        return await self.bus.case(case_id)
