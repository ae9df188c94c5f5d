"""Property-based fuzzing of the gateway from its own OpenAPI document (schemathesis).

Thousands of generated requests, valid and invalid, with every kind of token and none, on the
real FastAPI app and an in-memory bus: the gateway never answers 5xx, and every 4xx is an RFC
9457 problem document. Deterministic (a fixed seed): a failure in CI fails the same way here.
"""

import itertools
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from tests.unit.test_gateway_fakes import TOKENS, FakeCaseBus, write_tokens

# Per API operation; the document has a handful of operations, so several thousand in all.
EXAMPLES = int(os.environ.get("VENTANILLA_FUZZ_EXAMPLES", "1000"))
PROBLEM_FIELDS = ("type", "title", "status", "detail", "instance")

# Each generated request goes with the next of these: a channel, an auditor, an operator, an
# unknown token and no token at all.
_callers = itertools.cycle([*TOKENS, "not-a-token", None])
answers: Counter[int] = Counter()  # status → how many generated requests got it


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


def check_answer(response: Any) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:500]}"
    if status < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]  # header values come as lists
    assert content_type.startswith("application/problem+json"), (status, content_type)
    problem = response.json()
    missing = [f for f in PROBLEM_FIELDS if f not in problem]
    assert not missing, (status, problem)
    assert problem["status"] == status
    assert all(isinstance(problem[f], str) and problem[f] for f in PROBLEM_FIELDS if f != "status")


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_error_is_a_problem_document(case: Any) -> None:
    caller = next(_callers)
    headers = {"Authorization": f"Bearer {caller}"} if caller else {}
    if caller is None and case.headers:
        case.headers.pop("Authorization", None)
    response = case.call(headers=headers)
    answers[response.status_code] += 1
    check_answer(response)


def test_the_fuzz_sent_thousands_of_requests_and_met_every_kind_of_error() -> None:
    """Runs after the fuzz (file order): it must not have been a handful of easy requests."""
    print(f"fuzz: {sum(answers.values())} requests, by status {dict(sorted(answers.items()))}")
    if EXAMPLES >= 1000:
        assert sum(answers.values()) >= 3000
        assert {202, 401, 403, 404, 422} <= answers.keys()
