"""The conformance checks of requests no adapter can handle: each must become a dead letter.

A dead letter keeps the request's bytes and the reason, and blocks nothing behind it; a result
for such a request would mean the adapter acted on something its contract does not allow.
"""

import json
import secrets
from collections.abc import Callable
from typing import Any
from uuid import uuid4

from schemas import subjects
from schemas.entities.base import ServiceContract
from schemas.messages import StepRequest

from .checks import Check, Verdict, described
from .probe import AdapterProbe
from .samples import step_request, without_a_field

DEAD_LETTER = "dead letter, no result"


def _must_dead_letter(name: str, make: Callable[[], tuple[str, bytes, Any]]) -> Check:
    async def check(probe: AdapterProbe, wait: float) -> Verdict:
        subject, data, key = make()
        answer = await probe.send(subject, data, f"check:{uuid4()}", key, wait)
        return Verdict(name, DEAD_LETTER, described(answer), answer.kind == "dead letter")

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
