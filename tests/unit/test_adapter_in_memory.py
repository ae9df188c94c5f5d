"""An adapter's handlers on FastStream's in-memory broker: no server, the same SDK code path.

Delivery guarantees (acks, redelivery, dead letters on a real stream) are tested against a real
nats-server in tests/integration/test_adapter_runner.py; this checks what a handler answers.
"""

from uuid import uuid4

from faststream.nats import JStream, NatsBroker, NatsMessage, TestNatsBroker

from schemas import subjects
from schemas.messages import Actor, StepRequest, StepResult
from services.entity_adapters import reniec
from services.entity_adapters.backoffices.effects import EffectLog
from services.entity_adapters.backoffices.reniec import FakeReniec
from services.entity_adapters.runner import AdapterRunner
from tests.factories import envelope


def identity_check(dni: str, payload: dict[str, object] | None = None) -> StepRequest:
    case_id, attempt_id = uuid4(), uuid4()
    return StepRequest(
        envelope=envelope(case_id, Actor(kind="ledger", id="case-ledger")),
        step_id="verificacion-identidad",
        attempt=1,
        attempt_id=attempt_id,
        entity="reniec",
        service="verificacion-identidad",
        payload=payload
        or {
            "case_id": str(case_id),
            "step_id": "verificacion-identidad",
            "operation_id": str(uuid4()),
            "attempt_id": str(attempt_id),
            "citizen": {"document_type": "DNI", "document_number": dni},
        },
    )


def broker_with_capture() -> tuple[NatsBroker, list[StepResult], list[tuple[bytes, str]]]:
    broker = NatsBroker()
    AdapterRunner(reniec.adapter, FakeReniec(EffectLog()), broker)
    results: list[StepResult] = []
    letters: list[tuple[bytes, str]] = []

    @broker.subscriber(
        subjects.entity_results("reniec"),
        stream=JStream(subjects.RESULTS_STREAM, declare=False),
    )
    async def on_result(result: StepResult) -> None:
        results.append(result)

    @broker.subscriber(
        subjects.dead_letter("reniec"),
        stream=JStream(subjects.DEAD_LETTERS_STREAM, declare=False),
    )
    async def on_letter(message: NatsMessage) -> None:
        letters.append((message.body, message.headers[subjects.HEADER_DEAD_LETTER_REASON]))

    return broker, results, letters


async def test_a_registered_citizen_is_verified_in_memory() -> None:
    broker, results, letters = broker_with_capture()
    request = identity_check("40000001")
    async with TestNatsBroker(broker) as test_broker:
        await test_broker.publish(
            request.model_dump_json().encode(), subjects.work("reniec", "verificacion-identidad")
        )
    [result] = results
    assert result.outcome == "completed"
    assert result.attempt_id == request.attempt_id
    assert result.data["verification_code"]
    assert letters == []


async def test_an_unknown_citizen_is_refused_as_a_final_answer_in_memory() -> None:
    broker, results, _ = broker_with_capture()
    async with TestNatsBroker(broker) as test_broker:
        await test_broker.publish(
            identity_check("40000002").model_dump_json().encode(),
            subjects.work("reniec", "verificacion-identidad"),
        )
    [result] = results
    assert result.outcome == "rejected"
    assert result.reason == reniec.NOT_REGISTERED


async def test_an_invalid_request_goes_to_the_dead_letters_with_its_reason_in_memory() -> None:
    broker, results, letters = broker_with_capture()
    bad = identity_check("40000001", payload={"citizen": "nobody"})
    async with TestNatsBroker(broker) as test_broker:
        await test_broker.publish(
            bad.model_dump_json().encode(), subjects.work("reniec", "verificacion-identidad")
        )
    assert results == []
    [(letter, reason)] = letters
    assert StepRequest.model_validate_json(letter) == bad
    assert reason.startswith("invalid verificacion-identidad request: ")
