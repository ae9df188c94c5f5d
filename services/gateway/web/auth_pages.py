"""Clerks and staff log in and out; anyone picks the pages' language.

One login form for every account: a clerk goes back to the page that sent them to log in (the
counter's home by default), a staff member to their role's home unless sent from one of its pages.
"""

import asyncio
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from . import i18n
from .console import SESSION_COOKIE, WebConsole, is_tls
from .counter_store import ROLE_HOMES, StaffMember
from .forms_csrf import checked_form
from .i18n import _
from .page_language import LANG_COOKIE
from .security import pseudonym


def safe_back(path: str | None, default: str = "/") -> str:
    """Only a path of this site: never `//host` or `https://…` (an open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path


def auth_routes(console: WebConsole) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/ingresar")
    async def login_page(request: Request, siguiente: str | None = None) -> Response:
        if console.clerk(request) is not None:
            return RedirectResponse(safe_back(siguiente), status_code=303)
        member = console.staff(request)
        if member is not None:
            return RedirectResponse(safe_back(siguiente, ROLE_HOMES[member.role]), status_code=303)
        return console.render(request, "login.html", back_to=safe_back(siguiente))

    @router.post("/ingresar")
    async def login(request: Request) -> Response:
        form = await checked_form(console, request)
        user = form.get("usuario", "").strip()
        password = form.get("contrasena", "")
        asked = form.get("siguiente")
        back_to = safe_back(asked)
        client = request.client.host if request.client else "?"
        keys = (f"user:{user.lower()}", f"client:{client}")
        waits = [w for w in (console.login_limit.wait(k) for k in keys) if w is not None]
        if waits:
            minutes = max(1, (max(waits) + 59) // 60)
            message = _(
                "Demasiados intentos fallidos. Espere %(minutes)s minutos antes de volver a "
                "intentarlo."
            ) % {"minutes": minutes}
            return console.render(
                request, "login.html", 429, back_to=back_to, error=message, user=user
            )
        account = await asyncio.to_thread(console.store.check_login, user, password)
        if account is None:
            for key in keys:
                console.login_limit.failed(key)
            message = _(
                "El usuario o la contraseña no son correctos, o la cuenta está desactivada."
            )
            return console.render(
                request, "login.html", 401, back_to=back_to, error=message, user=user
            )
        for key in keys:
            console.login_limit.succeeded(key)
        request.state.clerk = pseudonym(console.key, account.user)
        if isinstance(account, StaffMember):
            token = console.store.open_staff_session(account.user)
            home = ROLE_HOMES[account.role]
            back_to = safe_back(asked, home) if asked and asked != "/" else home
        else:
            token = console.store.open_session(account.user)
        response = RedirectResponse(back_to, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=is_tls(request),
            path="/",
        )
        return response

    @router.post("/salir")
    async def logout(request: Request) -> Response:
        await checked_form(console, request)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            console.store.close_session(token)
        response = RedirectResponse("/ingresar?salida=1", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @router.get("/idioma/{code}")
    async def choose_language(
        request: Request,
        code: Annotated[str, Path()],
        volver: Annotated[str | None, Query()] = None,
    ) -> Response:
        response = RedirectResponse(safe_back(volver), status_code=303)
        response.set_cookie(
            LANG_COOKIE,
            i18n.pick(code),
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=is_tls(request),
            path="/",
        )
        return response

    return router


def login_url(back_to: str) -> str:
    return "/ingresar?siguiente=" + quote(back_to, safe="/")
