"""The auditor's pages under /auditoria: find a case, its timeline, replay, verification, bundle,
and a citizen's access log.

Every page needs an auditor's session (`WebConsole.requires("auditor")`); a clerk or an operator
gets a 403. A page that reads a case's or a citizen's personal data asks for the auditor's
purpose first and hands it to the ledger with the read, which records it like the API's reads
(services/gateway/reads.py): reader `auditor:<user>`, service `console`, the request id.
The DNI of an access-log search travels in a posted form, never in a URL.
"""

import json
import os
import re
from collections.abc import Awaitable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, TypeVar
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from schemas.identifiers import DNI_PATTERN
from schemas.queries import ReadContext
from schemas.views import CaseHistory
from services.errors import BusUnavailable

from ..reads import request_id
from .audit_access import access_csv, access_rows
from .audit_timeline import TimelineFilter, moment_in, timeline
from .console import LIMA, PageRefused, WebConsole
from .counter_store import StaffMember
from .forms_csrf import checked_form
from .i18n import _

READ_SERVICE = "console"
ACCESS_LOG_DAYS = 365  # the period the access-log form starts with
# A link to a trace viewer, e.g. `http://127.0.0.1:16686/trace/{trace_id}` (Jaeger); unset: the
# trace id is shown as text.
TRACE_URL_ENV = "VENTANILLA_TRACE_URL"
T = TypeVar("T")


def audit_routes(console: WebConsole) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    Auditor = Annotated[StaffMember, Depends(console.requires("auditor"))]
    CaseId = Annotated[UUID, Path()]
    Purpose = Annotated[str, Query(max_length=500)]
    trace_url = os.environ.get(TRACE_URL_ENV) or None

    def reading(request: Request, auditor: StaffMember, purpose: str) -> ReadContext:
        return ReadContext(
            reader_kind="auditor",
            reader_id=auditor.user,
            purpose=purpose.strip(),
            request_id=request_id(request),
            service=READ_SERVICE,
        )

    @router.get("/auditoria")
    async def audit_home(
        request: Request,
        auditor: Auditor,
        caso: Annotated[str, Query(max_length=100)] = "",
        proposito: Purpose = "",
    ) -> Response:
        errors: dict[str, str] = {}
        if caso or proposito:
            case_id = _case_id(caso)
            if case_id is None:
                errors["caso"] = _("Escriba el identificador del caso (un UUID).")
            if len(proposito.strip()) < 3:
                errors["proposito"] = _("Diga para qué consulta el caso; queda registrado.")
            if not errors:
                return RedirectResponse(
                    f"/auditoria/casos/{case_id}?" + urlencode({"proposito": proposito.strip()}),
                    status_code=303,
                )
        return console.render(
            request,
            "audit_home.html",
            400 if errors else 200,
            errors=errors,
            caso=caso,
            proposito=proposito,
        )

    @router.get("/auditoria/casos/{case_id}")
    async def case_timeline(
        request: Request,
        auditor: Auditor,
        case_id: CaseId,
        proposito: Purpose = "",
        fallos: Annotated[str, Query(max_length=2)] = "",
        entidad: Annotated[str, Query(max_length=100)] = "",
        tipo: Annotated[str, Query(max_length=100)] = "",
        vista: Annotated[str, Query(pattern="^(compacta|json)$")] = "compacta",
        momento: Annotated[str, Query(max_length=40)] = "",
        pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> Response:
        if len(proposito.strip()) < 3:
            # Nothing is read before the auditor says why.
            return console.render(
                request,
                "audit_purpose.html",
                case_id=case_id,
                proposito=proposito,
                error=_("Diga para qué consulta el caso; queda registrado.") if proposito else None,
            )
        read = reading(request, auditor, proposito)
        moment = moment_in(momento, LIMA) if momento else None
        history = await _history(console, case_id, read)
        replay = None
        if moment is not None:
            replay = await _ledger(console.bus.history(case_id, as_of=moment, read=read))
        chosen = TimelineFilter(failures_only=fallos == "1", entity=entidad, event_type=tipo)
        later_than = (replay.version or 0) if replay else (0 if moment is not None else None)
        shown = timeline(history, chosen, pagina, later_than)
        query = {
            "proposito": proposito.strip(),
            "fallos": fallos,
            "entidad": entidad,
            "tipo": tipo,
            "vista": vista,
            "momento": momento,
        }
        return console.render(
            request,
            "audit_case.html",
            case_id=case_id,
            history=history,
            shown=shown,
            filters=query,
            query=urlencode(query),
            moment=moment,
            moment_error=bool(momento) and moment is None,
            replay=replay,
            trace_url=trace_url,
        )

    @router.get("/auditoria/casos/{case_id}/paquete")
    async def case_bundle(
        request: Request, auditor: Auditor, case_id: CaseId, proposito: Purpose = ""
    ) -> Response:
        if len(proposito.strip()) < 3:
            return RedirectResponse(f"/auditoria/casos/{case_id}", status_code=303)
        answer = await _ledger(console.bus.bundle(case_id, reading(request, auditor, proposito)))
        if not answer.found:
            raise _no_case()
        if answer.bundle is None:
            raise PageRefused(
                503,
                _("Paquete no disponible"),
                _("El registro no pudo firmar el paquete de este caso: %(why)s")
                % {"why": answer.problem or "?"},
            )
        return Response(
            json.dumps(answer.bundle, indent=2) + "\n",
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="caso-{case_id}.json"'},
        )

    @router.get("/auditoria/verificacion")
    async def verification(
        request: Request, auditor: Auditor, comprobar: Annotated[str, Query(max_length=2)] = ""
    ) -> Response:
        report = await _ledger(console.bus.verify()) if comprobar == "1" else None
        return console.render(request, "audit_verify.html", report=report)

    @router.get("/auditoria/accesos")
    async def access_form(request: Request, auditor: Auditor) -> Response:
        today = datetime.now(UTC).astimezone(LIMA).date()
        fields = {
            "dni": "",
            "desde": (today - timedelta(days=ACCESS_LOG_DAYS)).isoformat(),
            "hasta": today.isoformat(),
            "proposito": "",
        }
        return console.render(request, "audit_access.html", fields=fields, errors={}, rows=None)

    @router.post("/auditoria/accesos")
    async def access_log(request: Request, auditor: Auditor) -> Response:
        form = await checked_form(console, request)
        fields = {k: form.get(k, "").strip() for k in ("dni", "desde", "hasta", "proposito")}
        errors: dict[str, str] = {}
        if not re.fullmatch(DNI_PATTERN, fields["dni"]):
            errors["dni"] = _("Escriba el DNI del ciudadano: 8 dígitos.")
        since, until = _day(fields["desde"]), _day(fields["hasta"])
        if since is None:
            errors["desde"] = _("Escriba la fecha de inicio del periodo.")
        if until is None:
            errors["hasta"] = _("Escriba la fecha de fin del periodo.")
        if len(fields["proposito"]) < 3:
            errors["proposito"] = _("Diga para qué consulta el registro; queda registrado.")
        if errors or since is None or until is None:
            return console.render(
                request, "audit_access.html", 400, fields=fields, errors=errors, rows=None
            )
        log = await _ledger(
            console.bus.access_log(
                fields["dni"], read=reading(request, auditor, fields["proposito"])
            )
        )
        rows = access_rows(log, since, until + timedelta(days=1))
        if form.get("formato") == "csv":
            return Response(
                access_csv(rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="registro-de-accesos.csv"'},
            )
        return console.render(request, "audit_access.html", fields=fields, errors={}, rows=rows)

    return router


async def _history(console: WebConsole, case_id: UUID, read: ReadContext) -> CaseHistory:
    history = await _ledger(console.bus.history(case_id, read=read))
    if history is None or not history.events:
        raise _no_case()
    return history


async def _ledger(asking: Awaitable[T]) -> T:
    try:
        return await asking
    except BusUnavailable:
        raise PageRefused(
            503,
            _("El registro no responde"),
            _("El registro de casos no respondió. Vuelva a intentarlo en unos minutos."),
        ) from None


def _no_case() -> PageRefused:
    return PageRefused(
        404, _("Caso no encontrado"), _("El registro no tiene un caso con ese identificador.")
    )


def _case_id(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def _day(text: str) -> datetime | None:
    """A date of a form, as the start of that day in Lima."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day, time(), LIMA).astimezone(UTC)
