"""The gateway application, built from its collaborators; nothing here touches the network."""

from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from schemas.procedures import catalog

from . import error_handlers
from .auth import TokenBook, authenticator
from .case_bus import CaseBus
from .limits import MAX_BODY_BYTES, BodyLimit
from .observability import RequestObserver
from .problems import Problem
from .rate_limits import RateLimiter
from .routes.case_events import case_event_routes
from .routes.cases import case_routes
from .routes.checkpoint_keys import checkpoint_key_routes
from .routes.citizens import citizen_routes
from .routes.contract import contract_routes
from .routes.health import health_routes
from .routes.indicators import indicator_routes
from .routes.operations import operation_routes
from .routes.procedures import procedure_routes
from .routes.sla import sla_routes
from .site_links import SiteLinks
from .status_feed import CaseStatusFeed
from .web.console import WebConsole
from .web.pages import install_pages

TITLE = "Ventanilla gateway"
VERSION = version("ventanilla")  # pyproject.toml's, as installed: written there only
DESCRIPTION = """\
The HTTP entrance to Ventanilla, the interchange bus of Peru's MAC platform.

MAC channels (Centro MAC counters, MAC Express kiosks, Aló MAC, Portal MAC) submit cross-entity
cases and follow them; auditors read any case, its ledger history and a citizen's access log;
operators watch the entities' queues and the dead letters. Every call but the
procedure catalog and the probes needs `Authorization: Bearer <token>`.

Errors are RFC 9457 problem documents (`application/problem+json`) with `type`, `title`,
`status`, `detail` and `instance`; validation problems add `errors`, one per field.
"""


def create_app(
    bus: CaseBus,
    token_book: TokenBook,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    rate_limiter: RateLimiter | None = None,
    checkpoint_keys: Path | None = None,
    pages: WebConsole | None = None,
    status_feed: CaseStatusFeed | None = None,
    submit_receipt: str | None = None,
    site_links: SiteLinks | None = None,
) -> FastAPI:
    """`status_feed`: where `GET /v1/cases/{id}/events` follows cases (no such route without)."""
    app = FastAPI(title=TITLE, version=VERSION, description=DESCRIPTION)
    authenticate = authenticator(token_book, rate_limiter)
    app.include_router(case_routes(bus, authenticate, receipt=submit_receipt))
    if status_feed is not None:
        app.include_router(case_event_routes(bus, status_feed, authenticate))
    app.include_router(citizen_routes(bus, authenticate))
    app.include_router(operation_routes(bus, authenticate, site_links))
    app.include_router(sla_routes(bus, authenticate))
    app.include_router(indicator_routes(bus, authenticate))
    app.include_router(procedure_routes(catalog()))
    app.include_router(health_routes(bus))
    app.include_router(checkpoint_key_routes(checkpoint_keys))
    app.include_router(contract_routes())
    error_handlers.install(app, bus)
    if pages is not None:  # the counter console and the citizen's status page
        install_pages(app, pages)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(RequestObserver)  # added last: outermost, so it sees every answer
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the Problem schema that the error responses refer to."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        app.openapi_schema = document
    return app.openapi_schema
