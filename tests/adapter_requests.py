"""Step requests for RENIEC's adapter, and waiting for their results on the results stream."""

import asyncio
from uuid import UUID, uuid4

from nats.js import JetStreamContext

from schemas import subjects
from schemas.messages import Actor, StepRequest, StepResult
from tests.factories import envelope


def duplicate_request(dni: str) -> StepRequest:
    case_id, attempt_id = uuid4(), uuid4()
    return StepRequest(
        envelope=envelope(case_id, Actor(kind="ledger", id="case-ledger")),
        step_id="duplicado-dni",
        attempt=1,
        attempt_id=attempt_id,
        entity="reniec",
        service="duplicado-dni",
        payload={
            "case_id": str(case_id),
            "operation_id": str(uuid4()),
            "attempt_id": str(attempt_id),
            "step_id": "duplicado-dni",
            "citizen": {"document_type": "DNI", "document_number": dni},
            "reason": "robo",
            "payment_receipt": "BN-0001",
        },
    )


async def results_for(js: JetStreamContext, attempt_id: UUID, count: int) -> list[StepResult]:
    """Wait until `count` results exist on the stream, then return those of this attempt."""
    async with asyncio.timeout(20):
        while (await js.stream_info(subjects.RESULTS_STREAM)).state.messages < count:
            await asyncio.sleep(0.05)
    info = await js.stream_info(subjects.RESULTS_STREAM)
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        result = StepResult.model_validate_json(
            (await js.get_msg(subjects.RESULTS_STREAM, seq)).data
        )
        if result.attempt_id == attempt_id:
            found.append(result)
    return found


async def results_for_all(js: JetStreamContext, count: int) -> list[StepResult]:
    """Every result on the stream, once `count` of them are there."""
    async with asyncio.timeout(30):
        while (await js.stream_info(subjects.RESULTS_STREAM)).state.messages < count:
            await asyncio.sleep(0.05)
    info = await js.stream_info(subjects.RESULTS_STREAM)
    return [
        StepResult.model_validate_json((await js.get_msg(subjects.RESULTS_STREAM, seq)).data)
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]
