"""The citizen's status page: opened with the receipt's case code and verification code.

The codes are posted, never put in a URL. A right pair sets a short-lived cookie (an HMAC of the
case id under the console key) that opens `/estado/caso` and its live stream; a wrong pair, an
unknown case or a mistyped code all get the same one message and no data, and each client has a
few tries per quarter hour.
"""

import hashlib
import hmac
import time
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.procedures import catalog

from . import texts
from .console import WebConsole, is_tls
from .counter_store import normal_case_code
from .forms_csrf import checked_form
from .i18n import _
from .live import case_stream
from .security import verification_matches
from .tasks import task_list

CASE_COOKIE = "ventanilla_estado"
CASE_COOKIE_SECONDS = 30 * 60


def case_pass(key: bytes, case_id: UUID, expires: int) -> str:
    mac = hmac.new(key, f"estado\n{case_id}\n{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{case_id}.{expires}.{mac}"


def case_of_pass(key: bytes, value: str | None) -> UUID | None:
    try:
        case_text, expires_text, _mac = (value or "").split(".")
        case_id, expires = UUID(case_text), int(expires_text)
    except ValueError:
        return None
    if expires < time.time():
        return None
    return case_id if hmac.compare_digest(case_pass(key, case_id, expires), value or "") else None


def citizen_routes(console: WebConsole) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/estado")
    async def status_form(request: Request) -> Response:
        return console.render(request, "status_form.html")

    @router.post("/estado")
    async def open_status(request: Request) -> Response:
        form = await checked_form(console, request)
        client = request.client.host if request.client else "?"
        wait = console.status_limit.wait(client)
        if wait is not None:
            minutes = max(1, (wait + 59) // 60)
            message = _(
                "Hizo demasiados intentos. Espere %(minutes)s minutos y vuelva a intentarlo."
            ) % {"minutes": minutes}
            return console.render(request, "status_form.html", 429, error=message)
        receipt = console.store.receipt_by_code(normal_case_code(form.get("codigo_caso", "")))
        typed = form.get("codigo_verificacion", "")
        if receipt is None or not verification_matches(console.key, receipt.case_id, typed):
            console.status_limit.failed(client)
            message = _(
                "Los códigos no corresponden a ningún caso. Revise el código del caso y el código "
                "de verificación de su constancia."
            )
            return console.render(request, "status_form.html", 404, error=message)
        console.status_limit.succeeded(client)
        response = RedirectResponse("/estado/caso", status_code=303)
        expires = int(time.time()) + CASE_COOKIE_SECONDS
        response.set_cookie(
            CASE_COOKIE,
            case_pass(console.key, receipt.case_id, expires),
            max_age=CASE_COOKIE_SECONDS,
            httponly=True,
            samesite="strict",
            secure=is_tls(request),
            path="/estado",
        )
        return response

    @router.get("/estado/caso")
    async def status_page(request: Request) -> Response:
        case_id = case_of_pass(console.key, request.cookies.get(CASE_COOKIE))
        receipt = console.store.receipt(case_id) if case_id else None
        if receipt is None:
            return RedirectResponse("/estado", status_code=303)
        view = await console.case_view(receipt)
        return console.render(
            request,
            "status.html",
            receipt=receipt,
            title=texts.procedure_title(receipt.procedure),
            tasks=task_list(catalog().get(receipt.procedure), view, at_site=console.at_site),
            stream="/estado/eventos",
        )

    @router.get("/estado/eventos")
    async def status_events(request: Request) -> Response:
        case_id = case_of_pass(console.key, request.cookies.get(CASE_COOKIE))
        if case_id is None or console.store.receipt(case_id) is None:
            return Response(status_code=204)  # EventSource stops on 204
        return case_stream(console.env, console.feed, case_id, at_site=console.at_site)

    return router
