"""RFC 9457 problem documents: the one shape every error of the gateway takes.

Our own problem types are tag URIs (RFC 4151): stable identifiers that promise no web page.
Plain HTTP errors (no such route, wrong method) use `about:blank`, as RFC 9457 asks.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from services.errors import VentanillaError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "tag:ventanilla.mac.gob.pe,2026:problems/"


def problem_type(slug: str) -> str:
    return PROBLEM_TYPE_PREFIX + slug


class FieldProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str = Field(description="Where in the request, e.g. `citizen.document_number`.")
    message: str = Field(description="What is wrong, in plain words.")


class Problem(BaseModel):
    """An error, as RFC 9457 `application/problem+json`."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(default="about:blank", description="Identifies the kind of problem.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong with this request.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="One entry per invalid field (validation problems only)."
    )


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> ProblemResponse:
    return ProblemResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=problem.status,
        headers=dict(headers or {}),
    )


class ApiProblem(VentanillaError):
    """An error the gateway answers with a problem document of its own type."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def problem(self, instance: str) -> Problem:
        return Problem(
            type=problem_type(self.slug),
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors or None,
        )


class NotAuthenticated(ApiProblem):
    status, slug, title = 401, "not-authenticated", "Not authenticated"

    def __init__(self, detail: str, *, invalid_token: bool) -> None:
        challenge = 'Bearer realm="ventanilla"'
        if invalid_token:
            challenge += ', error="invalid_token"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(ApiProblem):
    status, slug, title = 403, "forbidden", "Not allowed for this token"


class InvalidRequest(ApiProblem):
    status, slug, title = 422, "invalid-request", "The request is not valid"


class RequestTooLarge(ApiProblem):
    status, slug, title = 413, "request-too-large", "Request body too large"


class CaseNotVisible(ApiProblem):
    status, slug, title = 404, "case-not-found", "Case not found"


class IdempotencyKeyReused(ApiProblem):
    status, slug, title = 409, "idempotency-key-reused", "Idempotency-Key already used"


class TooManyRequests(ApiProblem):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


class ServiceUnavailable(ApiProblem):
    status, slug, title = 503, "service-unavailable", "Service temporarily unavailable"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


def problem_content(description: str) -> dict[str, Any]:
    """An OpenAPI `responses` entry for a problem document."""
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
