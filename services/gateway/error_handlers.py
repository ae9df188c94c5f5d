"""Every error the gateway can meet, answered as a problem document (see problems.py).

Unexpected exceptions are answered by the request middleware (observability.py), so that the
server never prints their messages, which could carry personal data.
"""

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from schemas.procedures import catalog
from services.errors import BusUnavailable, CaseNotFound

from .auth import NOT_FOUND_DETAIL
from .case_bus import DEPENDENCY_NAMES, CaseBus, DependencyUnavailable, IdempotencyConflict
from .problems import (
    ApiProblem,
    CaseNotVisible,
    Forbidden,
    IdempotencyKeyReused,
    InvalidRequest,
    NotAuthenticated,
    Problem,
    ServiceUnavailable,
    problem_response,
)
from .refused_reads import record_refused_read
from .validation import field_problems, summary

RETRY_AFTER_SECONDS = 5


def install(app: FastAPI, bus: CaseBus) -> None:
    async def refused(request: Request, exc: ApiProblem) -> Response:
        """401 and 403: a read of personal data refused here is recorded (refused_reads.py)."""
        await record_refused_read(bus, request)
        return await _api_problem(request, exc)

    app.add_exception_handler(ApiProblem, _api_problem)  # type: ignore[arg-type]
    app.add_exception_handler(NotAuthenticated, refused)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, refused)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(IdempotencyConflict, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(CaseNotFound, _not_found)
    app.add_exception_handler(BusUnavailable, _unavailable)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]


async def _api_problem(request: Request, exc: ApiProblem) -> Response:
    return problem_response(exc.problem(request.url.path), exc.headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    problems = field_problems(exc.errors(), tags=tuple(catalog()))
    return await _api_problem(request, InvalidRequest(summary(problems), errors=problems))


async def _conflict(request: Request, exc: IdempotencyConflict) -> Response:
    detail = (
        f"This Idempotency-Key was already used for a different request (case {exc.case_id}). "
        "To retry, send exactly the same request again; for a new case, use a new key."
    )
    return await _api_problem(request, IdempotencyKeyReused(detail))


async def _not_found(request: Request, exc: Exception) -> Response:
    return await _api_problem(request, CaseNotVisible(NOT_FOUND_DETAIL))


async def _unavailable(request: Request, exc: Exception) -> Response:
    what = "The bus is not answering"
    if isinstance(exc, DependencyUnavailable):
        what = DEPENDENCY_NAMES[exc.dependency]
    detail = f"{what}; nothing was lost. Try again in a few seconds."
    return await _api_problem(
        request, ServiceUnavailable(detail, retry_after_seconds=RETRY_AFTER_SECONDS)
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    status = HTTPStatus(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else status.description
    if status == HTTPStatus.NOT_FOUND:
        detail = "There is nothing at this path. See /openapi.json for the routes."
    elif status == HTTPStatus.METHOD_NOT_ALLOWED:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed here" + (f"; use {allowed}." if allowed else ".")
    problem = Problem(
        title=status.phrase, status=status.value, detail=detail, instance=request.url.path
    )
    return problem_response(problem, exc.headers)
