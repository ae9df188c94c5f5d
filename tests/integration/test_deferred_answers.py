"""Deferred answers on a real nats-server and SQLite: SUNARP accepts a transfer now, answers later.

Demo citizen 40000008's transfer registration is accepted at once and decided about 20 s later;
the adapter publishes the decision as the final answer of the accepted attempt.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.entities.sunarp import TransferRegistered
from services.bus.publishing import publish
from services.case_ledger.store import LedgerStore
from services.entity_adapters.answers import AnswerTo, answer
from services.entity_adapters.backoffices import demo
from services.stack.natsd import EmbeddedNats
from tests.factories import step_result, submit_command
from tests.integration.stack import LocalStack, event_types, local_stack, submit

pytestmark = pytest.mark.integration

TRANSFER = {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000}


async def wait_step_status(stack: LocalStack, case_id: UUID, step_id: str, status: str) -> None:
    async with asyncio.timeout(30):
        while True:
            with stack.reading() as ledger:
                if ledger.is_recorded(case_id):
                    view = ledger.case_view(case_id)
                    if any(s.step_id == step_id and s.status == status for s in view.steps):
                        return
            await asyncio.sleep(0.1)


async def test_a_transfer_accepted_now_completes_when_sunarp_answers_later(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        submitted = datetime.now(UTC)
        command = submit_command(
            demo.SUNARP_ANSWERS_LATER, procedure="transferencia-vehicular", inputs=TRANSFER
        )
        case_id = await submit(js, command)

        await wait_step_status(stack, case_id, "inscripcion", "accepted")
        with stack.reading() as ledger:
            waiting = ledger.case_view(case_id)
        assert waiting.status == "in_progress"
        [step] = [s for s in waiting.steps if s.step_id == "inscripcion"]
        assert step.expected_by is not None
        assert step.expected_by - submitted >= demo.SUNARP_DECISION_DELAY - timedelta(seconds=1)
        assert stack.effects["sunarp"].count("transfer-registered") == 0

        assert await stack.wait_final(case_id, within=60) == "completed"
        with stack.reading() as ledger:
            history = ledger.case_history(case_id)
    inscription = [e for e in history.events if e.data.get("step_id") == "inscripcion"]
    assert [e.type for e in inscription] == ["StepDispatched", "StepAccepted", "StepCompleted"]
    accepted, completed = inscription[1], inscription[2]
    assert completed.data["attempt_id"] == accepted.data["attempt_id"]
    assert completed.actor == {"kind": "entity", "id": "sunarp"}
    assert completed.occurred_at - accepted.occurred_at >= timedelta(seconds=15)
    assert completed.data["result"]["registration_number"].startswith("TIT-")
    assert stack.effects["sunarp"].count("transfer-registered") == 1


async def test_a_duplicated_final_answer_is_recognised(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        command = submit_command(
            demo.SUNARP_ANSWERS_LATER, procedure="transferencia-vehicular", inputs=TRANSFER
        )
        case_id = await submit(js, command)
        assert await stack.wait_final(case_id, within=60) == "completed"
        with stack.reading() as ledger:
            before = event_types(ledger, case_id)
            completed = next(
                e
                for e in ledger.case_history(case_id).events
                if e.type == "StepCompleted" and e.data["step_id"] == "inscripcion"
            )
        to = AnswerTo(
            case_id=case_id,
            step_id="inscripcion",
            attempt_id=UUID(str(completed.data["attempt_id"])),
            service="inscripcion-transferencia",
        )
        # Within the duplicate window, the stream drops the second copy of the answer ...
        registered = completed.data["result"]
        ack = await answer(js, "sunarp", to, TransferRegistered.model_validate(registered))
        assert ack.duplicate
        # ... and beyond it (another message id), the ledger recognises the repeat.
        repeat = step_result(
            case_id,
            "inscripcion",
            to.attempt_id,
            "sunarp",
            "inscripcion-transferencia",
            data=registered,
        )
        stored = await publish(
            js,
            subjects.result("sunarp", "inscripcion-transferencia"),
            repeat,
            msg_id="a-retry-after-the-window",
        )
        await stack.wait_position("results", stored.seq)
        with stack.reading() as ledger:
            assert event_types(ledger, case_id) == before
            assert ledger.case_view(case_id).status == "completed"
    assert stack.effects["sunarp"].count("transfer-registered") == 1
