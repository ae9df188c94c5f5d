"""The management indicators for operators: attentions, times, rejections, retries, letters."""

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from schemas.indicators import IndicatorsQuery, IndicatorsReport
from services.credentials import Principal
from services.observability.indicator_views import as_csv

from ..auth import Authenticate, holding
from ..case_bus import CaseBus
from ..problems import problem_content
from .cases import UNAUTHENTICATED, UNAVAILABLE
from .periods import utc_period

# A period longer than this is a different question (a yearly export), not an operator's look.
LONGEST_PERIOD = timedelta(days=366)


def indicator_routes(bus: CaseBus, authenticate: Authenticate) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["operations"])
    operator = holding(authenticate, "ops:read")

    @router.get(
        "/indicators",
        summary="Management indicators over a period (JSON or CSV)",
        response_model=IndicatorsReport,
        response_model_by_alias=True,
        responses={
            200: {"content": {"text/csv": {}}, "description": "With `format=csv`: one long CSV."},
            **UNAUTHENTICATED,
            403: problem_content("Only operator tokens (scope `ops:read`)."),
            422: problem_content(
                "`from` and `to` are ISO 8601 moments, `to` after `from`, at most 366 days apart."
            ),
            **UNAVAILABLE,
        },
    )
    async def indicators(
        _: Annotated[Principal, Depends(operator)],
        start: Annotated[datetime, Query(alias="from", description="Inclusive, ISO 8601.")],
        end: Annotated[datetime, Query(alias="to", description="Exclusive, ISO 8601.")],
        format: Annotated[Literal["json", "csv"], Query(description="json or csv.")] = "json",
    ) -> IndicatorsReport | Response:
        """Cases count in the period (and UTC day) they were submitted; steps in the period of
        their first dispatch; dead letters are those kept now. See docs/operations.md."""
        start, end = utc_period(start, end, LONGEST_PERIOD)
        report = await bus.indicators(IndicatorsQuery(start=start, end=end))
        if format == "csv":
            return Response(
                as_csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="indicadores.csv"'},
            )
        return report

    return router
