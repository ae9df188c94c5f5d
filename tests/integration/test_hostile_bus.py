"""Hostile or broken results on the bus: each is dead-lettered with a reason (or recognised as a
repeat), nothing in the ledger changes, and the messages behind them keep flowing.

(Malformed commands and work requests are in test_case_flow.py and test_adapter_runner.py.)
"""

import json
from uuid import uuid4

import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.messages import StepResult
from services.bus.publishing import publish
from services.case_ledger.store import LedgerStore
from services.stack.natsd import EmbeddedNats
from tests.factories import RECEIPT, step_result, submit_command
from tests.integration.stack import dead_letters, event_types, local_stack, submit

pytestmark = pytest.mark.integration


async def test_hostile_results_are_dead_lettered_with_a_reason_and_the_rest_flow(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        case_id = await submit(js, submit_command("40000001"))
        assert await stack.wait_final(case_id) == "completed"
        with stack.reading() as ledger:
            before = event_types(ledger, case_id)
        first = await js.get_msg(subjects.RESULTS_STREAM, 1)
        real = StepResult.model_validate_json(first.data or b"")
        assert real.step_id == "pago-tasa"

        bank_result = subjects.result("banco-nacion", "pago-tasa", case_id)

        def forged(**changes: object) -> bytes:
            return real.model_copy(update=changes).model_dump_json().encode()

        stranger = step_result(
            uuid4(), "pago-tasa", uuid4(), "banco-nacion", "pago-tasa", data=RECEIPT
        )
        wrong_version = json.loads(first.data or b"")
        wrong_version["envelope"]["schema_version"] = 2
        hostile = {
            "malformed JSON": (bank_result, b'{"envelope": '),
            "a command on the result subject": (
                bank_result,
                submit_command("40000001").model_dump_json().encode(),
            ),
            "schema version 2": (bank_result, json.dumps(wrong_version).encode()),
            "an unknown case": (
                subjects.result("banco-nacion", "pago-tasa", stranger.envelope.case_id),
                stranger.model_dump_json().encode(),
            ),
            "an unknown step": (bank_result, forged(step_id="entrega-a-domicilio")),
            "another entity's step": (
                subjects.result("reniec", "pago-tasa", case_id),
                forged(entity="reniec"),
            ),
            "another entity's subject": (
                subjects.result("reniec", "verificacion-identidad", case_id),
                first.data or b"",
            ),
        }
        for i, (subject, data) in enumerate(hostile.values()):
            await publish(js, subject, data, msg_id=f"hostile-{i}")
        # The same real answer again, as after an adapter crash before its ack: a known repeat.
        await publish(js, first.subject or "", first.data or b"", msg_id="repeat-1")

        # Behind all of them, a new case still goes through.
        after_id = await submit(js, submit_command("40000001"))
        assert await stack.wait_final(after_id) == "completed"
        results = await js.stream_info(subjects.RESULTS_STREAM)
        await stack.wait_position("results", results.state.last_seq)
        with stack.reading() as ledger:
            after = event_types(ledger, case_id)
            assert not ledger.is_recorded(stranger.envelope.case_id)

    assert after == before  # not one of them changed the case
    letters = [(s, h) for s, h, _ in await dead_letters(js) if s == subjects.dead_letter("ledger")]
    reasons = [h[subjects.HEADER_DEAD_LETTER_REASON] for _, h in letters]
    assert len(reasons) == len(hostile), reasons  # each one, and not the repeat
    expected_fragments = [
        "malformed JSON",
        "not a valid StepResult",
        "schema_version",
        "unknown case",
        "no dispatched step 'entrega-a-domicilio'",
        "belongs to banco-nacion, not reniec",
        "does not own ventanilla.result.reniec.verificacion-identidad",
    ]
    for fragment, reason in zip(expected_fragments, reasons, strict=True):
        assert fragment in reason, (fragment, reason)
    for _, headers in letters:
        assert headers[subjects.HEADER_ORIGIN_STREAM] == subjects.RESULTS_STREAM
        assert headers[subjects.HEADER_ORIGIN_SUBJECT].startswith(f"{subjects.PREFIX}.result.")
        assert "40000001" not in headers[subjects.HEADER_DEAD_LETTER_REASON]
