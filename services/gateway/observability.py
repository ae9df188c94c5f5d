"""One log line and one trace span per request, and the last word on unexpected errors.

The log line and span carry method, the route template (never the raw path: a citizen's
access log has the DNI in its path), status, duration, the caller's principal and the case id:
never a document number, a name or a body. An unexpected
exception is logged by type and code location only (its message could quote personal data) and
answered with a 500 problem that reveals nothing about the gateway's insides.
"""

import time
import traceback
from typing import Any

import structlog
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.bus.tracing import extract_trace_context, tracer
from services.credentials import Principal

from .problems import Problem, problem_response

log = structlog.get_logger("ventanilla.gateway")

UNMATCHED = "(no route)"


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        method, path = scope["method"], scope["path"]
        started = time.perf_counter()
        response: dict[str, Any] = {"status": 500, "started": False}

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"], response["started"] = message["status"], True
            await send(message)

        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with tracer().start_as_current_span(
            method,
            context=extract_trace_context(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
        ) as span:
            try:
                await self.app(scope, receive, observed_send)
            except Exception as exc:
                log.error("unhandled error", error=type(exc).__name__, at=_where(exc))
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                if not response["started"]:
                    await _internal_error(path)(scope, receive, observed_send)
            fields = _identifiers(state)
            route = scope.get("route")
            template = UNMATCHED
            if isinstance(route, BaseRoute) and hasattr(route, "path"):
                template = route.path
                span.update_name(f"{method} {template}")
                span.set_attribute("http.route", template)
            span.set_attribute("http.response.status_code", response["status"])
            for key, value in fields.items():
                span.set_attribute(f"ventanilla.{key}", value)
        log.info(
            "request",
            method=method,
            route=template,
            status=response["status"],
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            **fields,
        )


def _identifiers(state: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    principal = state.get("principal")
    if isinstance(principal, Principal):
        fields["principal"] = principal.kind
        if principal.kind == "channel":
            fields["channel"] = principal.id
    if "clerk" in state:
        fields["clerk"] = str(state["clerk"])  # a pseudonym (web/security.py), never the user
    if "case_id" in state:
        fields["case_id"] = str(state["case_id"])
    if "submission" in state:
        fields["submission"] = str(state["submission"])  # accepted | repeat
    return fields


def _where(exc: BaseException) -> list[str]:
    """Where it happened (file, line, function), without the message or any local value."""
    frames = traceback.extract_tb(exc.__traceback__)[-5:]
    return [f"{f.filename}:{f.lineno} in {f.name}" for f in frames]


def _internal_error(path: str) -> ASGIApp:
    return problem_response(
        Problem(
            title="Internal server error",
            status=500,
            detail="The gateway could not handle this request. The error was logged; "
            "try again later or contact the operator.",
            instance=path,
        )
    )
