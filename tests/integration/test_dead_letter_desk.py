"""The ledger's dead-letter desk on a real nats-server and the ledger's own database: letters
listed with payloads redacted, redriven once with the reason recorded, a second redrive a no-op.
The gateway asks it under its own NATS user (the rights in services/bus/permissions.py)."""

import asyncio
import json
from uuid import UUID

import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.dead_letters import DeadLetterQuery, RedriveRequest
from schemas.procedures import catalog
from services.bus.publishing import publish
from services.case_ledger.application import CaseLedger
from services.case_ledger.dead_letter_desk import DeadLetterDesk, redact
from services.case_ledger.redrives import redrives_for
from services.case_ledger.store import LedgerStore
from services.case_ledger.writer import LedgerThread
from tests.factories import submit_command

pytestmark = pytest.mark.integration


async def letters_count(js: JetStreamContext, count: int) -> None:
    async with asyncio.timeout(20):
        while (await js.stream_info(subjects.DEAD_LETTERS_STREAM)).state.messages < count:
            await asyncio.sleep(0.05)


def test_a_payload_keeps_its_shape_and_loses_its_values() -> None:
    body = submit_command("40000001").model_dump_json().encode()
    shown = redact(body)
    assert "40000001" not in shown
    assert set(json.loads(shown)) == set(json.loads(body))  # the same top-level fields
    assert redact(b"\xff not json") == "[10 bytes, not JSON]"


async def test_a_letter_is_redriven_once_with_its_reason(
    js: JetStreamContext, store: LedgerStore
) -> None:
    submit_subject = subjects.submit_case("mac-lima-norte", UUID(int=1))
    broken = b'{"envelope": {"case_id": "40000001"'
    reader = LedgerThread("test-desk")
    try:
        await publish(js, subjects.dead_letter("sat"), broken, msg_id="letter-1",
                      headers={subjects.HEADER_DEAD_LETTER_REASON: "malformed JSON",
                               subjects.HEADER_ORIGIN_SUBJECT: submit_subject,
                               subjects.HEADER_ORIGIN_STREAM: subjects.COMMANDS_STREAM,
                               subjects.HEADER_ORIGIN_SEQUENCE: "7"})  # fmt: skip
        await publish(js, subjects.dead_letter("ledger"), b"{}", msg_id="letter-2",
                      headers={subjects.HEADER_DEAD_LETTER_REASON: "unknown step",
                               subjects.HEADER_ORIGIN_SUBJECT: ""})  # fmt: skip
        await letters_count(js, 2)
        ledger = CaseLedger(catalog(), store.environment())
        desk = DeadLetterDesk(js, redrives_for(ledger.recorder), reader)
        listed = await desk.letters(DeadLetterQuery())
        only_sat = await desk.letters(DeadLetterQuery(source="sat"))
        ask = RedriveRequest(letter_ids=[1, 2, 99, 1], operator="operador.mac",
                             reason="se corrigió el adaptador")  # fmt: skip
        first = await desk.redrive(ask)
        second = await desk.redrive(ask.model_copy(update={"operator": "otro"}))
        after = await desk.letters(DeadLetterQuery())
        commands = await js.stream_info(subjects.COMMANDS_STREAM)
        again = await js.get_msg(subjects.COMMANDS_STREAM, commands.state.last_seq)
    finally:
        reader.close()

    assert [letter.id for letter in listed.letters] == [2, 1]  # newest first
    assert [letter.filed_by for letter in only_sat.letters] == ["sat"]
    assert "40000001" not in listed.model_dump_json()  # bodies leave the desk redacted
    assert [(r.id, r.outcome) for r in first.results] == [
        (1, "redriven"), (2, "failed"), (99, "missing"),
    ]  # fmt: skip
    assert [(r.id, r.outcome) for r in second.results] == [
        (1, "already-redriven"), (2, "failed"), (99, "missing"),
    ]  # fmt: skip
    assert commands.state.messages == 1  # the one redrive, not two
    # On the subject it came from (the stream adds the case's partition as a last token).
    assert subjects.published_form(again.subject, subjects.COMMAND_SUBMISSION) == submit_subject
    assert again.data == broken
    record = {letter.id: letter.redriven for letter in after.letters}
    assert record[2] is None  # a failed redrive leaves no record: it may be tried again
    assert record[1] is not None
    assert (record[1].operator, record[1].reason) == ("operador.mac", "se corrigió el adaptador")
