"""The operator's pages under /operaciones: entity health cards, the traffic (a 7-day chart
with filters and the same data as a table, the ANS report of the week and the indicators, each
with its CSV), and the MAC Express sites' links.

Every page needs an operator's session (`WebConsole.requires("operator")`). The figures come
from the bus as the API gives them (`/v1/operations/overview`, its `sites` too, `/v1/sla`,
`/v1/indicators`).
"""

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from schemas.entities import ENTITIES
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.procedures import catalog
from schemas.sla import SlaQuery, SlaReport
from services.errors import BusUnavailable
from services.observability.indicator_views import as_csv

from . import texts
from .console import PageRefused, WebConsole
from .counter_store import StaffMember
from .i18n import _
from .operator_board import STANDINGS, health_cards, sites_board, traffic, week_start

TRAFFIC_DAYS = 7
Filter = Annotated[str, Query(max_length=60)]


def operator_routes(console: WebConsole) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    Operator = Annotated[StaffMember, Depends(console.requires("operator"))]

    async def week_report(now: datetime) -> SlaReport:
        return await console.bus.sla(
            SlaQuery(start=week_start(now), end=now + timedelta(seconds=1))
        )

    async def last_days(now: datetime) -> IndicatorsReport:
        start = _day_start(now) - timedelta(days=TRAFFIC_DAYS - 1)
        return await console.bus.indicators(IndicatorsQuery(start=start, end=now))

    @router.get("/operaciones")
    async def health(request: Request, _operator: Operator) -> Response:
        now = datetime.now(UTC)
        try:
            overview = await console.bus.overview()
            indicators = await last_days(now)
            week = await week_report(now)
        except BusUnavailable:
            raise _unavailable() from None
        beats = dict(console.heartbeats.latest) if console.heartbeats else {}
        cards = health_cards(sorted(ENTITIES), overview, indicators, week, beats, now)
        return console.render(
            request,
            "operator_home.html",
            cards=cards,
            week_from=week_start(now),
            entity_name=texts.entity_name,
            procedure_title=texts.procedure_title,
        )

    @router.get("/operaciones/trafico")
    async def traffic_page(
        request: Request,
        _operator: Operator,
        entidad: Filter = "",
        tramite: Filter = "",
        resultado: Filter = "",
    ) -> Response:
        now = datetime.now(UTC)
        entities, procedures = sorted(ENTITIES), sorted(catalog())
        # An unknown filter value is ignored rather than refused: the form offers only known ones.
        entidad = entidad if entidad in entities else ""
        tramite = tramite if tramite in procedures else ""
        resultado = resultado if resultado in STANDINGS else ""
        try:
            indicators = await last_days(now)
            week = await week_report(now)
        except BusUnavailable:
            raise _unavailable() from None
        days = [_day_start(now).date() - timedelta(days=n) for n in range(TRAFFIC_DAYS - 1, -1, -1)]
        rows = traffic(indicators, days, entidad, tramite, resultado)
        return console.render(
            request,
            "operator_traffic.html",
            rows=rows,
            peak=max((r.total for r in rows), default=0),
            outcomes=STANDINGS,
            entities=entities,
            procedures=procedures,
            chosen={"entidad": entidad, "tramite": tramite, "resultado": resultado},
            week=week,
            week_from=week_start(now),
            indicators=indicators,
            entity_name=texts.entity_name,
            procedure_title=texts.procedure_title,
        )

    @router.get("/operaciones/sedes")
    async def sites_page(request: Request, _operator: Operator) -> Response:
        # Unlike the other pages, a silent bus leaves this page up with a notice in place of the
        # table: an operator looking into a cut-off site wants to know the hub cannot tell now.
        try:
            links = await console.site_links() if console.site_links else []
        except BusUnavailable:
            return console.render(request, "operator_sites.html", 503, board=None)
        return console.render(request, "operator_sites.html", board=sites_board(links))

    @router.get("/operaciones/ans.csv")
    async def ans_csv(_operator: Operator) -> Response:
        now = datetime.now(UTC)
        try:
            week = await week_report(now)
        except BusUnavailable:
            raise _unavailable() from None
        return _csv_file(sla_csv(week), "ans-semana.csv")

    @router.get("/operaciones/indicadores.csv")
    async def indicators_csv(_operator: Operator) -> Response:
        try:
            report = await last_days(datetime.now(UTC))
        except BusUnavailable:
            raise _unavailable() from None
        return _csv_file(as_csv(report), "indicadores-7-dias.csv")

    return router


def _day_start(now: datetime) -> datetime:
    """Today 00:00 UTC: the indicators count days in UTC."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


SLA_COLUMNS = ("entity", "service", "procedure", "deadline_s", "steps", "within_deadline",
               "within_deadline_pct", "open", "p50_s", "p95_s", "breaches")  # fmt: skip


def sla_csv(report: SlaReport) -> str:
    """The same columns as `ventanilla sla report --format csv`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SLA_COLUMNS)
    for line in report.lines:
        row = line.model_dump(mode="json")
        row["breaches"] = " ".join(f"{b['case_id']}/{b['step_id']}" for b in row["breaches"])
        writer.writerow(["" if row[c] is None else row[c] for c in SLA_COLUMNS])
    return out.getvalue()


def _csv_file(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _unavailable() -> PageRefused:
    return PageRefused(
        503,
        _("Servicio no disponible"),
        _("El bus o el registro no responden en este momento. Vuelva a cargar la página."),
    )
