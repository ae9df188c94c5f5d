"""Replaying a case as of a version or a moment, and reading histories stored by older code."""

import json
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import Tracking

from schemas.event_types import EventType
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.eventhash import GENESIS, seal, unseal
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.store import LedgerStore
from services.errors import CaseNotFound
from tests.factories import CARD, RECEIPT, step_result, submit_command
from tests.integration.raw_events import RawEvents

pytestmark = pytest.mark.integration


def attempt(app: CaseLedger, case_id: UUID, step_id: str) -> UUID:
    return app.repository.get(case_id).steps[step_id].attempt_id


def completed_case(app: CaseLedger) -> UUID:
    command = submit_command("40000001")
    case_id = command.envelope.case_id
    app.submit_case(command, Tracking("commands", 1))
    for n, (step, entity, data) in enumerate(
        (("pago-tasa", "banco-nacion", RECEIPT), ("duplicado-dni", "reniec", CARD)), start=1
    ):
        answer = step_result(case_id, step, attempt(app, case_id, step), entity, step, data=data)
        app.record_step_result(answer, Tracking("results", n))
    return case_id


def test_a_case_replays_as_of_a_version_and_as_of_a_moment(ledger: CaseLedger) -> None:
    case_id = completed_case(ledger)
    history = ledger.case_history(case_id)

    at_three = ledger.case_replay(case_id, version=3)
    assert at_three.version == 3
    assert [e.type for e in at_three.events] == [
        EventType.CASE_SUBMITTED,
        EventType.STEP_DISPATCHED,
        EventType.STEP_COMPLETED,
    ]
    assert at_three.state is not None
    assert at_three.state.status == "in_progress"
    assert [(s.step_id, s.status) for s in at_three.state.steps] == [
        ("pago-tasa", "completed"),
        ("duplicado-dni", "pending"),
    ]
    assert [(d.entity, d.step_id) for d in at_three.received] == [("banco-nacion", "pago-tasa")]

    moment = history.events[4].occurred_at  # the request to RENIEC, with the receipt
    then = ledger.case_replay(case_id, as_of=moment)
    assert then.version == 5
    assert then.as_of == moment
    assert [(d.entity, d.step_id) for d in then.received][-1] == ("reniec", "duplicado-dni")
    assert then.received[-1].request["payment_receipt"] == "BN-0001"
    assert then.state is not None
    assert then.state.steps[1].status == "dispatched"

    now = ledger.case_replay(case_id, as_of=history.events[-1].occurred_at)
    assert now.state is not None
    assert now.state.status == "completed"
    with pytest.raises(CaseNotFound):
        ledger.case_replay(case_id, as_of=history.events[0].occurred_at.replace(year=2000))


def test_a_history_stored_with_version_1_of_case_submitted_still_replays(
    store: LedgerStore, tmp_path: Path
) -> None:
    writer = CaseLedger(catalog(), store.environment())
    case_id = completed_case(writer)
    writer.close()
    # Rewrite the case as the ledger stored it before CaseSubmitted had a class_version 2:
    # no `causation_id` (nor version 3's `attendance`), no class_version; the chain sealed over
    # those bytes.
    raw = RawEvents(store)
    prev = GENESIS
    for row in raw.rows(case_id):
        payload = unseal(row.state).payload
        if row.version == 1:
            old = json.loads(payload)
            assert old.pop("class_version") == 3
            old.pop("causation_id")
            old.pop("attendance")
            payload = json.dumps(old, separators=(",", ":")).encode()
        state = seal(str(case_id), row.version, row.topic, prev, payload)
        raw.set_state(case_id, row.version, state)
        prev = unseal(state).event_hash

    reader = CaseLedger(catalog(), store.environment())
    try:
        first = reader.case_history(case_id).events[0]
        assert first.type == EventType.CASE_SUBMITTED
        assert first.data["causation_id"] is None  # upcast from version 1
        assert first.data["attendance"] is None  # and on to version 3
        replayed = reader.case_replay(case_id, version=2)
        assert replayed.state is not None
        assert replayed.state.status == "in_progress"
        assert reader.case_view(case_id).status == "completed"
        files = AuditFiles(tmp_path / "key.pem", tmp_path / "checkpoints.jsonl")
        assert LedgerAudit(reader.recorder, files).verify().intact
    finally:
        reader.close()
