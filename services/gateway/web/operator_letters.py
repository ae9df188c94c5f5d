"""The operator's dead-letter page: the letters with filters and redacted payloads, and their
redrive, one or many, behind a typed confirmation and a stated reason (recorded by the ledger's
desk with the operator's name; a letter already redriven is left alone)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from schemas.dead_letters import DeadLetterQuery, RedriveRequest
from services.errors import BusUnavailable

from .console import PageRefused, WebConsole
from .counter_store import StaffMember
from .forms_csrf import checked_form
from .i18n import _

CONFIRMATION = "REENVIAR"  # what the operator types to confirm: a redrive is not undone
Filter = Annotated[str, Query(max_length=100)]


def letter_routes(console: WebConsole) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    Operator = Annotated[StaffMember, Depends(console.requires("operator"))]

    async def page(
        request: Request,
        origen: str,
        texto: str,
        status: int = 200,
        errors: dict[str, str] | None = None,
        results: list[tuple[int, str]] | None = None,
        chosen: list[int] | None = None,
        motivo: str = "",
    ) -> Response:
        try:
            listed = await console.bus.dead_letters(DeadLetterQuery(source=origen or None))
        except BusUnavailable:
            raise _unavailable() from None
        sources = sorted({letter.filed_by for letter in listed.letters})
        letters = [
            letter
            for letter in listed.letters
            if not texto or texto.lower() in letter.reason.lower()
        ]
        return console.render(
            request,
            "operator_letters.html",
            status,
            section="cartas",
            letters=letters,
            sources=sources,
            origen=origen,
            texto=texto,
            errors=errors or {},
            results=results,
            chosen=set(chosen or []),
            motivo=motivo,
            confirmation=CONFIRMATION,
        )

    @router.get("/operaciones/cartas-muertas")
    async def letters(
        request: Request, _operator: Operator, origen: Filter = "", texto: Filter = ""
    ) -> Response:
        return await page(request, origen, texto)

    @router.post("/operaciones/cartas-muertas/reenviar")
    async def redrive(request: Request, operator: Operator) -> Response:
        form = await checked_form(console, request)
        posted = await request.form()
        ids = [int(v) for v in posted.getlist("carta") if isinstance(v, str) and v.isdigit()]
        reason = form.get("motivo", "").strip()
        errors = {}
        if not ids:
            errors["cartas"] = _("Marque al menos una carta para reenviar.")
        if len(reason) < 3:
            errors["motivo"] = _("Diga por qué las reenvía; queda registrado.")
        if form.get("confirmacion", "").strip() != CONFIRMATION:
            errors["confirmacion"] = _("Escriba %(word)s para confirmar.") % {"word": CONFIRMATION}
        origen, texto = form.get("origen", ""), form.get("texto", "")
        if errors:
            return await page(request, origen, texto, 400, errors, chosen=ids, motivo=reason)
        try:
            answer = await console.bus.redrive(
                RedriveRequest(letter_ids=ids[:200], operator=operator.user, reason=reason[:500])
            )
        except BusUnavailable:
            raise _unavailable() from None
        results: list[tuple[int, str]] = [(r.id, r.outcome) for r in answer.results]
        return await page(request, origen, texto, results=results)

    return router


def _unavailable() -> PageRefused:
    return PageRefused(
        503,
        _("Servicio no disponible"),
        _("El bus o el registro no responden en este momento. Vuelva a cargar la página."),
    )
