"""Property-based fuzzing of the gateway from its own OpenAPI document (schemathesis).

Generated requests, valid and invalid, each with the next caller of its operation (a channel,
an auditor, an operator, an unknown token, none), on the real FastAPI app and an in-memory bus:
every answer is a success or an RFC 9457 problem document, never a 5xx. Every request is
checked as it is answered, so the test fails on the first bad answer however many examples
`VENTANILLA_FUZZ_EXAMPLES` asks for (per operation and mode; default 1000) and whichever tests
run before it. Deterministic (derandomized): a failure in CI fails the same way here.

The other tests here make sure the check can fail: it refuses a real 5xx from a broken gateway
and error answers that are not problem documents, and it passes the gateway's answers of every
kind (202, 401, 403, 404, 422).
"""

import itertools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from tests.fakes import TOKENS, FakeCaseBus, auth, body, gateway, write_tokens

EXAMPLES = max(1, int(os.environ.get("VENTANILLA_FUZZ_EXAMPLES", "1000")))
PROBLEM_FIELDS = ("type", "title", "status", "detail", "instance")
CALLERS = [*TOKENS, "not-a-token", None]


def gateway_schema(folder: Path) -> OpenApiSchema:
    """The gateway's document, served by the app it describes (on an in-memory bus)."""
    tokens_file = folder / "tokens.json"
    write_tokens(tokens_file, TOKENS)
    app = create_app(FakeCaseBus(), TokenBook(tokens_file))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        deterministic=True,
        no_shrink=False,
    )
    return schema


# Loaded at collection: schemathesis' lazy fixture loader does not work with pytest 9.
_tokens_dir = tempfile.TemporaryDirectory(prefix="ventanilla-fuzz-")
schema = gateway_schema(Path(_tokens_dir.name))


def violation(status: int, content_type: str, content: bytes) -> str | None:
    """What is wrong with an answer, or None: a 5xx, or an error that is no problem document."""
    if status >= 500:
        return f"server error {status}: {content[:500]!r}"
    if status < 400:
        return None
    if not content_type.startswith("application/problem+json"):
        return f"{status} answered as {content_type!r}, not a problem document"
    try:
        problem = json.loads(content)
    except ValueError:
        return f"{status}: the problem document is not JSON"
    if not isinstance(problem, dict):
        return f"{status}: the problem document is not an object"
    missing = [f for f in PROBLEM_FIELDS if f not in problem]
    if missing:
        return f"{status}: the problem document lacks {missing}"
    if problem["status"] != status:
        return f"{status}: the problem document says status {problem['status']}"
    empty = [f for f in PROBLEM_FIELDS if f != "status" and not _text(problem[f])]
    return f"{status}: empty or non-text {empty}" if empty else None


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# Each operation cycles through the callers on its own, so that which caller goes with which
# generated request does not depend on the tests run before (Hypothesis' own `given` cannot be
# combined with the schema's examples).
_callers: dict[str, Iterator[str | None]] = {}


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_error_is_a_problem_document(case: Any) -> None:
    caller = next(_callers.setdefault(case.operation.label, itertools.cycle(CALLERS)))
    headers = {"Authorization": f"Bearer {caller}"} if caller else {}
    if caller is None and case.headers:
        case.headers.pop("Authorization", None)
    response = case.call(headers=headers)
    content_type = response.headers.get("content-type", [""])[0]  # header values come as lists
    problem = violation(response.status_code, content_type, response.content)
    assert problem is None, problem


def test_the_check_refuses_a_server_error_from_a_broken_gateway(tmp_path: Path) -> None:
    gw = gateway(tmp_path)
    gw.bus.fail_with = RuntimeError("a bug in the bus adapter")

    response = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))

    assert response.status_code == 500
    # Even the gateway's own 500 is a problem document: what fails it is the status alone.
    problem = violation(500, response.headers["content-type"], response.content)
    assert problem is not None
    assert problem.startswith("server error 500")


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b"Not Found"),
        ("application/json", b'{"detail": "Not Found"}'),
        ("application/problem+json", b"not json"),
        ("application/problem+json", b'{"status": 404, "title": "Not Found"}'),
        (
            "application/problem+json",
            b'{"type": "about:blank", "title": "", "status": 404, "detail": "x", "instance": "/"}',
        ),
        (
            "application/problem+json",
            b'{"type": "about:blank", "title": "t", "status": 400, "detail": "x", "instance": "/"}',
        ),
    ],
)
def test_the_check_refuses_an_error_that_is_not_a_problem_document(
    content_type: str, content: bytes
) -> None:
    assert violation(404, content_type, content) is not None


def test_the_check_passes_the_gateways_answers_of_every_kind(tmp_path: Path) -> None:
    gw = gateway(tmp_path)
    unknown_case = "/v1/cases/00000000-0000-4000-8000-000000000000"
    answers = {
        202: gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "k")),
        401: gw.client.get(unknown_case),
        403: gw.client.get("/v1/operations/overview", headers=auth("counter-token")),
        404: gw.client.get(unknown_case, headers=auth("counter-token")),
        422: gw.client.post("/v1/cases", json={}, headers=auth("counter-token", "k2")),
    }

    for status, response in answers.items():
        assert response.status_code == status, response.text
        content_type = response.headers.get("content-type", "")
        assert violation(status, content_type, response.content) is None
