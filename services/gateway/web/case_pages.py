"""A clerk follows a case: its live task list, its printable receipt, and "Mis casos".

Opening a case's page or its receipt is a read of the case, recorded by the ledger like the
API's reads (reader `clerk:<user>`, service `console`, action `case-view`). When the ledger
cannot take the record, the page is still shown (the clerk is serving the citizen at the
counter) and the missed record is logged, without personal data.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from schemas.catalog import ProcedureSpec
from schemas.procedures import catalog
from schemas.queries import ReadContext
from schemas.views import CaseView
from services.errors import BusUnavailable

from ..reads import request_id
from . import texts
from .console import LIMA, PageRefused, WebConsole
from .counter_store import Clerk, Receipt
from .i18n import _
from .live import case_stream
from .security import verification_code
from .tasks import CASE_LABELS, PENDING_FORWARD, TaskList, case_status, task_list

log = structlog.get_logger(__name__)

PAGE_SIZE = 10
CLERK_PURPOSE = "Atención del caso en la ventanilla"
STATUS_FILTER_SCAN = 200  # with a status filter, the newest cases looked at


def ans_deadline(proc: ProcedureSpec) -> timedelta:
    """The longest chain of the steps' deadlines (ANS): how long the entities have in all."""
    memo: dict[str, timedelta] = {}

    def finish(step_id: str) -> timedelta:
        if step_id not in memo:
            step = proc.step(step_id)
            memo[step_id] = step.deadline + max(
                (finish(dep) for dep in step.after), default=timedelta()
            )
        return memo[step_id]

    return max(finish(s.id) for s in proc.steps)


@dataclass(frozen=True)
class CaseRow:
    receipt: Receipt
    title: str
    status_label: str


def case_routes(console: WebConsole) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    CaseId = Annotated[UUID, Path()]

    def owned(clerk: Clerk, case_id: UUID) -> Receipt:
        receipt = console.store.receipt(case_id)
        if receipt is None or receipt.channel != clerk.channel:
            raise PageRefused(
                404,
                _("Caso no encontrado"),
                _("No hay un caso con ese código en esta sede."),
            )
        return receipt

    async def record_view(request: Request, clerk: Clerk, case_id: UUID) -> None:
        read = ReadContext(
            reader_kind="clerk",
            reader_id=clerk.user,
            purpose=CLERK_PURPOSE,
            request_id=request_id(request),
            service="console",
        )
        try:
            await console.bus.record_read(case_id, read)
        except BusUnavailable as exc:
            log.warning("case view not recorded", case_id=str(case_id), reason=str(exc))

    @router.get("/casos/{case_id}")
    async def case_page(request: Request, case_id: CaseId) -> Response:
        clerk = console.require_clerk(request)
        receipt = owned(clerk, case_id)
        await record_view(request, clerk, case_id)
        view = await console.case_view(receipt)
        tasks: TaskList = task_list(catalog().get(view.procedure), view, at_site=console.at_site)
        return console.render(
            request,
            "case.html",
            clerk=clerk,
            receipt=receipt,
            title=texts.procedure_title(receipt.procedure),
            tasks=tasks,
            stream=f"/casos/{case_id}/eventos",
        )

    @router.get("/casos/{case_id}/eventos")
    async def case_events(request: Request, case_id: CaseId) -> Response:
        clerk = console.require_clerk(request)
        owned(clerk, case_id)
        return case_stream(console.env, console.feed, case_id, at_site=console.at_site)

    @router.get("/casos/{case_id}/constancia")
    async def receipt_page(request: Request, case_id: CaseId) -> Response:
        clerk = console.require_clerk(request)
        receipt = owned(clerk, case_id)
        await record_view(request, clerk, case_id)
        view = await console.case_view(receipt)
        proc = catalog()[receipt.procedure]
        return console.render(
            request,
            "receipt.html",
            clerk=clerk,
            receipt=receipt,
            title=texts.procedure_title(receipt.procedure),
            verification=verification_code(console.key, case_id),
            tasks=task_list(proc, view, at_site=console.at_site),
            deadline=receipt.submitted_at + ans_deadline(proc),
        )

    @router.get("/casos")
    async def my_cases(
        request: Request,
        estado: Annotated[str, Query()] = "",
        tramite: Annotated[str, Query()] = "",
        desde: Annotated[str, Query()] = "",
        hasta: Annotated[str, Query()] = "",
        pagina: Annotated[int, Query(ge=1, le=1000)] = 1,
    ) -> Response:
        clerk = console.require_clerk(request)
        since, until = _day(desde), _day(hasta)
        receipts = console.store.receipts_of(
            clerk.user,
            procedure=tramite or None,
            since=since,
            until=until + timedelta(days=1) if until else None,
            limit=STATUS_FILTER_SCAN if estado else PAGE_SIZE * pagina + 1,
        )
        rows: list[CaseRow] = []
        if estado:
            for receipt in receipts:
                view = await console.case_view(receipt)
                if case_status(view, at_site=console.at_site) == estado:
                    rows.append(_row(receipt, view, console.at_site))
            shown = rows[(pagina - 1) * PAGE_SIZE : pagina * PAGE_SIZE]
            more = len(rows) > pagina * PAGE_SIZE
        else:
            page = receipts[(pagina - 1) * PAGE_SIZE : pagina * PAGE_SIZE]
            shown = [_row(r, await console.case_view(r), console.at_site) for r in page]
            more = len(receipts) > pagina * PAGE_SIZE
        filters = {"estado": estado, "tramite": tramite, "desde": desde, "hasta": hasta}
        return console.render(
            request,
            "cases.html",
            clerk=clerk,
            rows=shown,
            filters=filters,
            page=pagina,
            more=more,
            statuses=[
                (k, _(v)) for k, v in CASE_LABELS.items() if console.at_site or k != PENDING_FORWARD
            ],
            procedures=[(code, texts.procedure_title(code)) for code in catalog()],
        )

    return router


def _row(receipt: Receipt, view: CaseView, at_site: bool) -> CaseRow:
    label = CASE_LABELS.get(case_status(view, at_site=at_site), CASE_LABELS["in_progress"])
    return CaseRow(receipt, texts.procedure_title(receipt.procedure), _(label))


def _day(text: str) -> datetime | None:
    """A date of the filter form, as the start of that day in Lima."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day, time(), LIMA).astimezone(UTC)
