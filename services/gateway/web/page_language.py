"""Which language a request's pages speak: the visitor's choice, kept in a cookie."""

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from . import i18n

LANG_COOKIE = "ventanilla_idioma"


class PageLanguage:
    """Sets the request's locale (a ContextVar the gettext callables read) around the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = HTTPConnection(scope).cookies.get(LANG_COOKIE)
        with i18n.speaking(i18n.pick(chosen)):
            await self.app(scope, receive, send)
