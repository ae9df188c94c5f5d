"""The conformance checks of valid requests: an answer in the contract's model, given once.

Each check sends one or two requests through the bus and compares what the adapter did with
what it should have done; it waits at most `wait` seconds for each answer.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from pydantic import ValidationError

from schemas import subjects
from schemas.entities.base import ServiceContract
from schemas.messages import StepRequest

from .probe import AdapterProbe, Answer
from .samples import step_request


@dataclass(frozen=True)
class Verdict:
    check: str
    expected: str
    observed: str
    passed: bool


Check = Callable[[AdapterProbe, float], Awaitable[Verdict]]


async def send(probe: AdapterProbe, request: StepRequest, wait: float) -> Answer:
    return await probe.send(
        subjects.work(request.entity, request.service),
        request.model_dump_json().encode(),
        f"check:{request.attempt_id}",
        (request.envelope.case_id, request.attempt_id),
        wait,
    )


def described(answer: Answer) -> str:
    if answer.kind == "dead letter":
        return f"dead letter: {answer.reason}"
    if answer.kind == "nothing":
        return "no answer in time"
    assert answer.result is not None
    result = answer.result
    return f"{result.outcome} result" + (f": {result.reason}" if result.reason else "")


def _answers_well(contract: ServiceContract[Any, Any], answer: Answer) -> tuple[bool, str]:
    """A completed result in the contract's model, or a business refusal with its reason."""
    if answer.result is None or answer.result.outcome not in ("completed", "rejected"):
        return False, described(answer)
    if answer.result.outcome == "rejected":
        return bool(answer.result.reason), described(answer)
    try:
        contract.result.model_validate(answer.result.data)
    except ValidationError as exc:
        return False, f"completed, but its data is not a {contract.result.__name__}: {exc}"
    return True, f"completed, a valid {contract.result.__name__}"


def valid_request(contract: ServiceContract[Any, Any], n: int, example: dict[str, Any]) -> Check:
    async def check(probe: AdapterProbe, wait: float) -> Verdict:
        answer = await send(probe, step_request(contract, example), wait)
        passed, observed = _answers_well(contract, answer)
        return Verdict(
            f"valid request #{n} ({contract.service})",
            f"a completed {contract.result.__name__} (or a rejection with its reason)",
            observed,
            passed,
        )

    return check


def duplicate_operation(contract: ServiceContract[Any, Any], example: dict[str, Any]) -> Check:
    """The same operation twice (a redelivery, a retried step): one effect, the same answer."""

    async def check(probe: AdapterProbe, wait: float) -> Verdict:
        first = step_request(contract, example, operation_id=uuid4())
        operation = first.payload["operation_id"]
        again = step_request(
            contract,
            example,
            case_id=first.envelope.case_id,
            operation_id=operation,
            attempt=2,
        )
        one = await send(probe, first, wait)
        two = await send(probe, again, wait)
        name = f"same operation twice ({contract.service})"
        expected = "two identical results: the back office acts once"
        if one.result is None or two.result is None:
            return Verdict(name, expected, f"{described(one)}; {described(two)}", False)
        same = (one.result.outcome, one.result.data, one.result.reason) == (
            two.result.outcome,
            two.result.data,
            two.result.reason,
        )
        observed = (
            "identical results"
            if same
            else f"different results ({_difference(one.result.data, two.result.data)}): "
            "it acted twice"
        )
        return Verdict(name, expected, observed, same)

    return check


def _difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    fields = sorted(k for k in {*a, *b} if a.get(k) != b.get(k))
    return "fields differ: " + ", ".join(fields) if fields else "outcomes differ"
