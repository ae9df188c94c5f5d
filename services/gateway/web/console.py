"""What every page handler shares: the stores, the status feed, the templates and the rules.

`WebConsole` is built once by the gateway's composition root; the page routers take it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from schemas.views import CaseView
from services.errors import BusUnavailable
from services.observability.bus_state import HeartbeatListener

from ..case_bus import CaseBus
from ..site_links import SiteLinks
from ..status_feed import CaseStatusFeed
from . import i18n
from .api_refusals import WrongAccount
from .counter_store import Clerk, CounterStore, Receipt, Role, StaffMember
from .i18n import _
from .security import CSRF_COOKIE, AttemptLimit, csrf_token, new_csrf_cookie, pseudonym

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "ventanilla_sesion"
# Peru keeps UTC-5 all year; a fixed offset needs no time zone database.
LIMA = timezone(timedelta(hours=-5), "PET")

LOGIN_ATTEMPTS, LOGIN_WINDOW_S = 5, 15 * 60
STATUS_ATTEMPTS, STATUS_WINDOW_S = 5, 15 * 60


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["lima"] = lima_time
    return env


def lima_time(moment: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    if moment is None:
        return ""
    return moment.astimezone(LIMA).strftime(fmt)


class PageRefused(Exception):
    """A page that must not be shown or a post that must not be done; `message` says why."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


class LoginRequired(Exception):
    """No clerk session: the browser goes to the login page and comes back afterwards."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


@dataclass
class WebConsole:
    bus: CaseBus
    feed: CaseStatusFeed
    store: CounterStore
    # The latest heartbeat of each process, for the operators' health cards (none: not heard).
    heartbeats: HeartbeatListener | None = None
    # The links of the hub's MAC Express sites, for the operators' sites page (none: no sites).
    site_links: SiteLinks | None = None
    # The MAC Express site this console runs at, on the site's own bus (None: at the hub). A
    # site has the counter pages only: the ledger, the auditors and the operators are at the hub.
    site: str | None = None
    key: bytes = field(init=False)
    env: Environment = field(default_factory=_environment)
    login_limit: AttemptLimit = field(
        default_factory=lambda: AttemptLimit(LOGIN_ATTEMPTS, LOGIN_WINDOW_S)
    )
    status_limit: AttemptLimit = field(
        default_factory=lambda: AttemptLimit(STATUS_ATTEMPTS, STATUS_WINDOW_S)
    )

    def __post_init__(self) -> None:
        self.key = self.store.console_key()

    @property
    def at_site(self) -> bool:
        return self.site is not None

    # --- who is asking -------------------------------------------------------------------

    def clerk(self, request: Request) -> Clerk | None:
        token = request.cookies.get(SESSION_COOKIE)
        clerk = self.store.session_clerk(token) if token else None
        if clerk is not None:
            request.state.clerk = pseudonym(self.key, clerk.user)  # for the request log line
            request.state.reader = ("clerk", clerk.user)  # for a refused read's record
        return clerk

    def staff(self, request: Request) -> StaffMember | None:
        token = request.cookies.get(SESSION_COOKIE)
        member = self.store.session_staff(token) if token else None
        if member is not None:
            request.state.clerk = pseudonym(self.key, member.user, "staff")  # for the log line
            request.state.staff = member  # for the page header
            request.state.reader = (member.role, member.user)  # for a refused read's record
        return member

    def require_clerk(self, request: Request) -> Clerk:
        clerk = self.clerk(request)
        if clerk is None:
            if self.staff(request) is not None:
                raise not_for_this_account(request, "clerk")
            raise LoginRequired(request.url.path)
        return clerk

    def require_staff(self, request: Request, role: Role) -> StaffMember:
        member = self.staff(request)
        if member is not None and member.role == role:
            return member
        if member is not None or self.clerk(request) is not None:
            raise not_for_this_account(request, role)
        raise LoginRequired(request.url.path)

    def requires(self, role: Role) -> Callable[[Request], StaffMember]:
        """A route dependency: the staff member of `role`, or a 403 (another account) or login."""

        def dependency(request: Request) -> StaffMember:
            return self.require_staff(request, role)

        return dependency

    def csrf_cookie(self, request: Request) -> str:
        """The visitor's CSRF cookie value, made on the first page it sees."""
        value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_cookie", None)
        if value is None:
            value = new_csrf_cookie()
            request.state.csrf_cookie = value
        return str(value)

    async def case_view(self, receipt: Receipt) -> CaseView:
        """The case as last recorded; while the ledger has not recorded it yet, `submitted`."""
        try:
            view = await self.feed.current(receipt.case_id)
        except BusUnavailable:
            view = None  # the page still shows what the receipt knows
        return view or CaseView(
            case_id=receipt.case_id,
            procedure=receipt.procedure,
            channel=receipt.channel,
            status="submitted",
            submitted_at=receipt.submitted_at,
            updated_at=receipt.submitted_at,
            version=0,
            steps=[],
        )

    # --- pages -----------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        status: int = 200,
        *,
        switch_back: str | None = None,
        **context: Any,
    ) -> HTMLResponse:
        language = i18n.current()
        context.setdefault("staff", getattr(request.state, "staff", None))
        context.setdefault("site", self.site)
        body = self.env.get_template(template).render(
            lang=language,
            languages=i18n.LANGUAGES,
            switch_back=switch_back or _here(request),
            csrf_field=csrf_token(self.key, self.csrf_cookie(request)),
            now=datetime.now(UTC),
            **context,
        )
        response = HTMLResponse(body, status_code=status)
        self.finish(request, response)
        return response

    def finish(self, request: Request, response: Any) -> None:
        """Cookies every answer may need to set: the CSRF cookie of a first visit."""
        fresh = getattr(request.state, "csrf_cookie", None)
        if fresh and CSRF_COOKIE not in request.cookies:
            response.set_cookie(
                CSRF_COOKIE,
                fresh,
                httponly=True,
                samesite="strict",
                secure=is_tls(request),
                path="/",
            )


def wants_problem(request: Request) -> bool:
    """An API client (not a browser) asks for a problem document rather than a page."""
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def not_for_this_account(request: Request, needs: str) -> Exception:
    """A logged-in account opens a page of another kind (a clerk /auditoria, an auditor /)."""
    if wants_problem(request):
        return WrongAccount(needs)
    return PageRefused(
        403,
        _("Página no disponible para su cuenta"),
        _(
            "Su cuenta no tiene permiso para ver esta página. Vuelva al inicio de su cuenta o "
            "ingrese con una cuenta que sí lo tenga."
        ),
    )


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def _here(request: Request) -> str:
    return request.url.path if request.method == "GET" else "/"
