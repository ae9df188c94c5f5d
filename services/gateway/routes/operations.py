"""What operators watch: each entity's queue, the streams' levels, the dead letters."""

from typing import Annotated

from fastapi import APIRouter, Depends

from schemas.views import BusOverview
from services.credentials import Principal

from ..auth import Authenticate, holding
from ..case_bus import CaseBus
from ..problems import problem_content
from ..site_links import SiteLinks
from .cases import UNAUTHENTICATED, UNAVAILABLE


def operation_routes(
    bus: CaseBus, authenticate: Authenticate, site_links: SiteLinks | None = None
) -> APIRouter:
    router = APIRouter(prefix="/v1/operations", tags=["operations"])

    operator = holding(authenticate, "ops:read")

    @router.get(
        "/overview",
        summary="Queues per entity, stream levels and dead letters",
        responses={
            **UNAUTHENTICATED,
            403: problem_content("Only operator tokens (scope `ops:read`)."),
            **UNAVAILABLE,
        },
    )
    async def overview(_: Annotated[Principal, Depends(operator)]) -> BusOverview:
        """An entity whose `waiting` grows is not keeping up (or its adapter is down);
        `redelivered` requests are being retried; `dead_letters` need an operator's look."""
        overview = await bus.overview()
        if site_links is not None:
            overview = overview.model_copy(update={"sites": await site_links()})
        return overview

    return router
