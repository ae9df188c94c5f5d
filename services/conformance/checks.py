"""The conformance checks: what an entity adapter must do with each kind of request.

Each check sends one or two requests through the bus and compares what the adapter did with
what it should have done. The checks run concurrently; each one waits at most `wait` seconds.
"""

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from pydantic import ValidationError

from schemas import subjects
from schemas.entities.base import ServiceContract
from schemas.messages import StepRequest
from services.bus.heartbeats import HEARTBEAT_EVERY, MISSED_BEFORE_DOWN

from .probe import AdapterProbe, Answer
from .samples import NoExample, examples_of, step_request, without_a_field

DEAD_LETTER = "dead letter, no result"


@dataclass(frozen=True)
class Verdict:
    check: str
    expected: str
    observed: str
    passed: bool


Check = Callable[[AdapterProbe, float], Awaitable[Verdict]]


async def _send(probe: AdapterProbe, request: StepRequest, wait: float) -> Answer:
    return await probe.send(
        subjects.work(request.entity, request.service),
        request.model_dump_json().encode(),
        f"check:{request.attempt_id}",
        (request.envelope.case_id, request.attempt_id),
        wait,
    )


def _observed(answer: Answer) -> str:
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
        return False, _observed(answer)
    if answer.result.outcome == "rejected":
        return bool(answer.result.reason), _observed(answer)
    try:
        contract.result.model_validate(answer.result.data)
    except ValidationError as exc:
        return False, f"completed, but its data is not a {contract.result.__name__}: {exc}"
    return True, f"completed, a valid {contract.result.__name__}"


def valid_request(contract: ServiceContract[Any, Any], n: int, example: dict[str, Any]) -> Check:
    async def check(probe: AdapterProbe, wait: float) -> Verdict:
        answer = await _send(probe, step_request(contract, example), wait)
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
        one = await _send(probe, first, wait)
        two = await _send(probe, again, wait)
        name = f"same operation twice ({contract.service})"
        expected = "two identical results: the back office acts once"
        if one.result is None or two.result is None:
            return Verdict(name, expected, f"{_observed(one)}; {_observed(two)}", False)
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


def _must_dead_letter(name: str, make: Callable[[], tuple[str, bytes, Any]]) -> Check:
    async def check(probe: AdapterProbe, wait: float) -> Verdict:
        subject, data, key = make()
        answer = await probe.send(subject, data, f"check:{uuid4()}", key, wait)
        return Verdict(name, DEAD_LETTER, _observed(answer), answer.kind == "dead letter")

    return check


def malformed_json(entity: str, service: str) -> Check:
    def make() -> tuple[str, bytes, Any]:
        # A nonce, so the dead letter is told apart from any other malformed message.
        return subjects.work(entity, service), b'{"not json ' + secrets.token_hex(8).encode(), None

    return _must_dead_letter("malformed JSON", make)


def as_sent(request: StepRequest, **envelope: Any) -> tuple[str, bytes, Any]:
    """The request's subject, its bytes with `envelope` fields overridden, and its answer key."""
    body = request.model_dump(mode="json")
    body["envelope"].update(envelope)
    key = (request.envelope.case_id, request.attempt_id)
    return subjects.work(request.entity, request.service), json.dumps(body).encode(), key


def wrong_schema_version(contract: ServiceContract[Any, Any], example: dict[str, Any]) -> Check:
    return _must_dead_letter(
        "wrong schema version",
        lambda: as_sent(step_request(contract, example), schema_version=99),
    )


def unknown_service(contract: ServiceContract[Any, Any], example: dict[str, Any]) -> Check:
    service = "no-such-service"
    return _must_dead_letter(
        f"a service {contract.entity} does not offer ({service})",
        lambda: as_sent(step_request(contract, example, service=service)),
    )


def missing_field(contract: ServiceContract[Any, Any], example: dict[str, Any]) -> Check:
    field, rest = without_a_field(contract, example)
    return _must_dead_letter(
        f"missing field {field!r} ({contract.service})",
        lambda: as_sent(step_request(contract, rest)),
    )


def checks_for(contracts: tuple[ServiceContract[Any, Any], ...]) -> tuple[list[Check], list[str]]:
    """Every check for an entity's contracts, and the faults of contracts that cannot be checked."""
    checks: list[Check] = []
    faults: list[str] = []
    for contract in contracts:
        try:
            examples = examples_of(contract)
            incomplete = missing_field(contract, examples[0])
        except NoExample as exc:
            faults.append(f"{contract.service}: {exc}")
            continue
        checks += [valid_request(contract, n, e) for n, e in enumerate(examples, 1)]
        checks += [duplicate_operation(contract, examples[0]), incomplete]
    if contracts and not faults:
        first = contracts[0]
        example = examples_of(first)[0]
        checks += [
            malformed_json(first.entity, first.service),
            wrong_schema_version(first, example),
            unknown_service(first, example),
        ]
    return checks, faults


async def run_checks(probe: AdapterProbe, checks: list[Check], wait: float) -> list[Verdict]:
    async with probe.listening():
        alive_within = HEARTBEAT_EVERY * MISSED_BEFORE_DOWN
        if not await probe.adapter_alive(alive_within):
            return [
                Verdict(
                    "adapter running",
                    f"a heartbeat on {subjects.heartbeat(probe.entity)}",
                    f"none within {alive_within:.0f}s: start the adapter (`ventanilla up`)",
                    False,
                )
            ]
        return list(await asyncio.gather(*(check(probe, wait) for check in checks)))
