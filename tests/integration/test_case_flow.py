"""A duplicado-dni case across Banco de la Nación and RENIEC on a real nats-server and SQLite."""

import json
from uuid import UUID, uuid4

import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.event_types import EventType
from schemas.messages import StepResult
from services.bus.publishing import publish
from services.case_ledger.store import LedgerStore
from services.stack.natsd import EmbeddedNats
from tests.factories import CARD, step_result, submit_command
from tests.integration.stack import dead_letters, event_types, local_stack, submit

pytestmark = pytest.mark.integration


async def test_a_case_crosses_two_entities_and_completes(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        case_id = await submit(js, submit_command("40000001"))

        assert await stack.wait_final(case_id) == "completed"

        with stack.reading() as ledger:
            view = ledger.case_view(case_id)
            history = ledger.case_history(case_id)
    assert [(s.step_id, s.status, s.attempts) for s in view.steps] == [
        ("pago-tasa", "completed", 1),
        ("duplicado-dni", "completed", 1),
    ]
    [shared] = [e for e in history.events if e.type == EventType.DATA_SHARED]
    assert shared.data["from_entity"] == "banco-nacion"
    assert shared.data["to_entity"] == "reniec"
    assert shared.data["fields"] == ["receipt_number"]
    assert shared.data["legal_basis"] == "DL 1211"
    # The receipt RENIEC received is the one Banco de la Nación issued.
    [fee_done] = [
        e
        for e in history.events
        if e.type == EventType.STEP_COMPLETED and e.data["step_id"] == "pago-tasa"
    ]
    [card_request] = [
        e
        for e in history.events
        if e.type == EventType.STEP_DISPATCHED and e.data["step_id"] == "duplicado-dni"
    ]
    assert (
        card_request.data["request"]["payment_receipt"] == fee_done.data["result"]["receipt_number"]
    )
    assert stack.effects["banco-nacion"].count("fee-charged") == 1
    assert stack.effects["reniec"].count("dni-duplicate-issued") == 1


async def test_a_citizen_unknown_to_reniec_is_rejected_with_the_reason(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        case_id = await submit(js, submit_command("40000002"))

        assert await stack.wait_final(case_id) == "rejected"
        with stack.reading() as ledger:
            view = ledger.case_view(case_id)
    assert view.reason is not None
    assert "RENIEC" in view.reason
    # The fee was paid before RENIEC refused: Banco de la Nación refunded it.
    assert [(s.step_id, s.status) for s in view.steps] == [
        ("pago-tasa", "completed"),
        ("duplicado-dni", "rejected"),
        ("pago-tasa/compensation", "completed"),
    ]
    assert stack.effects["reniec"].count("dni-duplicate-issued") == 0
    assert stack.effects["banco-nacion"].count("fee-refunded") == 1


async def test_the_same_submission_twice_opens_one_case(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        first = submit_command("40000001", key="counter-7-0001")
        again = submit_command("40000001", key="counter-7-0001")
        case_id = await submit(js, first)
        assert await submit(js, again) == case_id  # deduplicated by the server (Nats-Msg-Id)
        # Beyond the server's duplicate window the ledger itself recognises the case.
        subject = subjects.submit_case("mac-lima-norte", case_id)
        await publish(js, subject, again, msg_id=str(uuid4()))

        assert await stack.wait_final(case_id) == "completed"
        await stack.wait_position("commands", 2)
        with stack.reading() as ledger:
            types = event_types(ledger, case_id)
    assert types.count(EventType.CASE_SUBMITTED) == 1
    assert types.count(EventType.CASE_COMPLETED) == 1
    assert stack.effects["banco-nacion"].count("fee-charged") == 1


async def test_a_redelivered_result_is_applied_once(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        case_id = await submit(js, submit_command("40000001"))
        assert await stack.wait_final(case_id) == "completed"
        with stack.reading() as ledger:
            before = event_types(ledger, case_id)

        # The entity's first answer arrives again, as after an adapter crash before its ack.
        first_answer = await js.get_msg(subjects.RESULTS_STREAM, 1)
        assert StepResult.model_validate_json(first_answer.data or b"").step_id == "pago-tasa"
        await publish(js, first_answer.subject or "", first_answer.data or b"", msg_id="redo-1")
        results = await js.stream_info(subjects.RESULTS_STREAM)
        await stack.wait_position("results", results.state.last_seq)

        with stack.reading() as ledger:
            after = event_types(ledger, case_id)
    assert after == before


async def test_bad_messages_go_to_the_dead_letter_stream_and_the_rest_flow(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    submit_subject = subjects.submit_case("mac-lima-norte", UUID(int=1))
    await publish(js, submit_subject, b"{not json", msg_id="bad-1")
    wrong_model = submit_command("40000001").model_dump(mode="json")
    del wrong_model["procedure"]
    await publish(js, submit_subject, json.dumps(wrong_model).encode(), msg_id="bad-2")
    await publish(js, subjects.work("reniec", "duplicado-dni"), b"\x00garbage", msg_id="bad-3")
    async with local_stack(sqlite_store, nats_server.url) as stack:
        case_id = await submit(js, submit_command("40000001"))

        assert await stack.wait_final(case_id) == "completed"
    letters = await dead_letters(js)
    by_origin = {subject: headers for subject, headers, _ in letters}
    assert len(letters) == 3
    reasons = [h[subjects.HEADER_DEAD_LETTER_REASON] for _, h, _ in letters]
    assert "malformed JSON" in reasons
    assert any("procedure" in r and "SubmitCase" in r for r in reasons)
    assert subjects.dead_letter("reniec") in by_origin
    # The original bytes are kept for an operator to inspect or replay.
    assert b"{not json" in [data for _, _, data in letters]
    for _, headers, _ in letters:
        assert headers[subjects.HEADER_ORIGIN_STREAM] in (
            subjects.COMMANDS_STREAM,
            subjects.WORK_STREAM,
        )
        assert "40000001" not in headers[subjects.HEADER_DEAD_LETTER_REASON]


async def test_a_message_claiming_another_sender_than_its_subject_is_dead_lettered(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    """The server keeps each sender to its subjects; the ledger ties the payload to them."""
    async with local_stack(sqlite_store, nats_server.url, entities=["banco-nacion"]) as stack:
        case_id = await submit(js, submit_command("40000001"))
        await stack.wait_position("results", 1)  # the fee is paid; RENIEC's adapter is down
        with stack.reading() as ledger:
            history = ledger.case_history(case_id)
        [request] = [
            e.data
            for e in history.events
            if e.type == EventType.STEP_DISPATCHED and e.data["step_id"] == "duplicado-dni"
        ]
        forged = step_result(
            case_id,
            "duplicado-dni",
            UUID(str(request["attempt_id"])),
            "reniec",
            "duplicado-dni",
            data=CARD,
        )
        # SAT's adapter (which may publish on SAT's result subjects only) answers for RENIEC.
        forged_subject = subjects.result("sat", "certificado-no-adeudo", case_id)
        await publish(js, forged_subject, forged, msg_id="f-1")
        # A kiosk's leaf node submits a case in the name of a Centro MAC counter.
        impostor = submit_command("40000001", channel="mac-lima-norte")
        impostor_subject = subjects.submit_case("mac-express-pias-napo", impostor.envelope.case_id)
        await publish(js, impostor_subject, impostor, msg_id="f-2")
        await stack.wait_position("results", 2)
        await stack.wait_position("commands", 2)
        with stack.reading() as ledger:
            assert ledger.case_view(case_id).status == "in_progress"
            assert not ledger.is_recorded(impostor.envelope.case_id)
    reasons = [h[subjects.HEADER_DEAD_LETTER_REASON] for _, h, _ in await dead_letters(js)]
    not_theirs = "from a sender that does not own"
    # Commands and results are consumed independently, so their dead letters may land in any order.
    assert sorted(reasons) == [
        f"StepResult {not_theirs} {forged_subject}",
        f"SubmitCase {not_theirs} {impostor_subject}",
    ]
