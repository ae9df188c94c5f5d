"""The web pages on the gateway: routers, static files, the page language and page errors."""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ..refused_reads import record_refused_read
from .audit_pages import audit_routes
from .auth_pages import auth_routes, login_url
from .case_pages import case_routes
from .citizen_pages import citizen_routes
from .console import STATIC_DIR, LoginRequired, PageRefused, WebConsole
from .console_pages import console_routes
from .operator_letters import letter_routes
from .operator_pages import operator_routes
from .page_language import PageLanguage


def install_pages(app: FastAPI, console: WebConsole) -> None:
    app.include_router(auth_routes(console))
    app.include_router(console_routes(console))
    app.include_router(case_routes(console))
    app.include_router(citizen_routes(console))
    if not console.at_site:  # their figures and records are at the hub
        app.include_router(audit_routes(console))
        app.include_router(operator_routes(console))
        app.include_router(letter_routes(console))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageRefused)
        clerk = console.clerk(request)
        console.staff(request)
        if exc.status == 403:
            await record_refused_read(console.bus, request)
        return console.render(
            request, "refused.html", exc.status, clerk=clerk, title=exc.title, message=exc.message
        )

    async def to_login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        await record_refused_read(console.bus, request)
        return RedirectResponse(login_url(exc.back_to), status_code=303)

    app.add_exception_handler(PageRefused, refused)
    app.add_exception_handler(LoginRequired, to_login)
    app.add_middleware(PageLanguage)
