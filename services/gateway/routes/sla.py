"""The ANS report for operators: per entity, service and procedure over a period."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from schemas.sla import SlaQuery, SlaReport
from services.credentials import Principal

from ..auth import Authenticate, holding
from ..case_bus import CaseBus
from ..problems import problem_content
from .cases import UNAUTHENTICATED, UNAVAILABLE
from .periods import utc_period


def sla_routes(bus: CaseBus, authenticate: Authenticate) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["operations"])
    operator = holding(authenticate, "ops:read")

    @router.get(
        "/sla",
        summary="ANS compliance per entity, service and procedure over a period",
        response_model_by_alias=True,
        responses={
            **UNAUTHENTICATED,
            403: problem_content("Only operator tokens (scope `ops:read`)."),
            422: problem_content("`from` and `to` are ISO 8601 moments, `to` after `from`."),
            **UNAVAILABLE,
        },
    )
    async def sla(
        _: Annotated[Principal, Depends(operator)],
        start: Annotated[datetime, Query(alias="from", description="Inclusive, ISO 8601.")],
        end: Annotated[datetime, Query(alias="to", description="Exclusive, ISO 8601.")],
        entity: Annotated[str | None, Query(description="Only this entity.")] = None,
    ) -> SlaReport:
        """Steps count in the period their first attempt was dispatched; a step is within the
        ANS when its final answer came within the catalog's deadline and no attempt was late.
        Each breach names its case."""
        start, end = utc_period(start, end)
        return await bus.sla(SlaQuery(start=start, end=end, entity=entity))

    return router
