"""The case ledger on real SQLite and PostgreSQL: cases, tracking and reading back."""

from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from schemas.conformance import check_case_id
from schemas.event_types import EventType
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from services.errors import CaseNotFound, Unprocessable
from tests.factories import CARD, COMPLETED_HISTORY, RECEIPT, step_result, submit_command

pytestmark = pytest.mark.integration


def dispatched_attempt(ledger: CaseLedger, case_id: UUID, step_id: str) -> UUID:
    history = ledger.case_history(case_id)
    [dispatch] = [
        e
        for e in history.events
        if e.type == EventType.STEP_DISPATCHED and e.data["step_id"] == step_id
    ]
    return UUID(str(dispatch.data["attempt_id"]))


def run_to_completion(ledger: CaseLedger, case_id: UUID, first_position: int) -> None:
    fee = dispatched_attempt(ledger, case_id, "pago-tasa")
    ledger.record_step_result(
        step_result(case_id, "pago-tasa", fee, "banco-nacion", "pago-tasa", data=RECEIPT),
        Tracking("results", first_position),
    )
    card = dispatched_attempt(ledger, case_id, "duplicado-dni")
    ledger.record_step_result(
        step_result(case_id, "duplicado-dni", card, "reniec", "duplicado-dni", data=CARD),
        Tracking("results", first_position + 1),
    )


def test_a_case_is_recorded_step_by_step_and_read_back(ledger: CaseLedger) -> None:
    command = submit_command("40000001")
    case_id = command.envelope.case_id

    assert ledger.submit_case(command, Tracking("commands", 1)) == "recorded"
    run_to_completion(ledger, case_id, first_position=1)

    view = ledger.case_view(case_id)
    assert view.status == "completed"
    assert view.channel == "mac-lima-norte"
    assert [(s.entity, s.status) for s in view.steps] == [
        ("banco-nacion", "completed"),
        ("reniec", "completed"),
    ]
    history = ledger.case_history(case_id)
    assert [e.type for e in history.events] == COMPLETED_HISTORY
    assert [e.position for e in history.events] == list(range(1, 8))
    shared = history.events[3]
    assert shared.data["legal_basis"] == "DL 1211"
    assert (shared.data["from_entity"], shared.data["to_entity"]) == ("banco-nacion", "reniec")
    assert shared.actor == {"kind": "ledger", "id": "case-ledger"}
    assert history.events[2].actor == {"kind": "entity", "id": "banco-nacion"}


def test_tracking_positions_are_stored_with_the_events(ledger: CaseLedger) -> None:
    command = submit_command("40000001")
    ledger.submit_case(command, Tracking("commands", 7))

    assert ledger.position("commands") == 7
    assert ledger.is_tracked(Tracking("commands", 7))
    assert not ledger.is_tracked(Tracking("commands", 8))
    # The store itself refuses to apply the same bus position twice.
    with pytest.raises(IntegrityError):
        ledger.submit_case(submit_command("40000001"), Tracking("commands", 7))
    assert ledger.position("results") == 0


def test_a_resubmitted_case_is_a_repeat_and_opens_nothing(ledger: CaseLedger) -> None:
    command = submit_command("40000001", key="K-1")
    ledger.submit_case(command, Tracking("commands", 1))
    version = ledger.case_view(command.envelope.case_id).version

    assert ledger.submit_case(submit_command("40000001", key="K-1"), None) == "repeat"
    assert ledger.case_view(command.envelope.case_id).version == version


def test_a_redelivered_result_is_recorded_once(ledger: CaseLedger) -> None:
    command = submit_command("40000001")
    case_id = command.envelope.case_id
    ledger.submit_case(command)
    fee = dispatched_attempt(ledger, case_id, "pago-tasa")
    answer = step_result(case_id, "pago-tasa", fee, "banco-nacion", "pago-tasa", data=RECEIPT)

    assert ledger.record_step_result(answer, Tracking("results", 1)) == "recorded"
    assert ledger.record_step_result(answer, Tracking("results", 2)) == "repeat"
    types = [e.type for e in ledger.case_history(case_id).events]
    assert types.count(EventType.STEP_COMPLETED) == 1


def test_results_that_fit_no_case_are_refused(ledger: CaseLedger) -> None:
    command = submit_command("40000001")
    case_id = command.envelope.case_id
    fee_attempt = UUID(int=1)
    with pytest.raises(Unprocessable, match="unknown case"):
        ledger.record_step_result(
            step_result(case_id, "pago-tasa", fee_attempt, "banco-nacion", "pago-tasa")
        )
    ledger.submit_case(command)
    with pytest.raises(Unprocessable, match="belongs to banco-nacion"):
        ledger.record_step_result(
            step_result(case_id, "pago-tasa", fee_attempt, "reniec", "pago-tasa")
        )


def test_an_unknown_case_is_not_found(ledger: CaseLedger) -> None:
    with pytest.raises(CaseNotFound):
        ledger.case_view(UUID(int=42))
    with pytest.raises(CaseNotFound):
        ledger.case_history(UUID(int=42))


def test_a_second_reader_sees_what_the_writer_recorded(store: LedgerStore) -> None:
    writer = CaseLedger(catalog(), store.environment())
    command = submit_command("40000001")
    writer.submit_case(command, Tracking("commands", 1))
    reader = CaseLedger(catalog(), store.environment())
    try:
        assert reader.case_view(command.envelope.case_id).status == "in_progress"
        notifications = reader.notifications_after(0, 10)
        assert [n.originator_id for n in notifications] == [command.envelope.case_id] * 2
    finally:
        reader.close()
        writer.close()


def test_a_result_that_does_not_fit_the_service_is_refused(ledger: CaseLedger) -> None:
    command = submit_command("40000001")
    case_id = command.envelope.case_id
    ledger.submit_case(command)
    fee = dispatched_attempt(ledger, case_id, "pago-tasa")

    with pytest.raises(Unprocessable, match="invalid pago-tasa result: receipt_number"):
        ledger.record_step_result(
            step_result(case_id, "pago-tasa", fee, "banco-nacion", "pago-tasa", data={})
        )
    with pytest.raises(Unprocessable, match="asked for pago-tasa, not devolucion-tasa"):
        ledger.record_step_result(
            step_result(case_id, "pago-tasa", fee, "banco-nacion", "devolucion-tasa")
        )
    assert ledger.case_view(case_id).steps[0].status == "dispatched"


def test_a_conformance_checks_result_is_passed_over_and_records_nothing(
    ledger: CaseLedger,
) -> None:
    case_id = check_case_id()
    answer = step_result(case_id, "pago-tasa", UUID(int=1), "banco-nacion", "pago-tasa")
    assert ledger.record_step_result(answer, Tracking("results", 1)) == "check"
    assert ledger.position("results") == 1  # read past, so it is never read again
    with pytest.raises(CaseNotFound):
        ledger.case_view(case_id)
    # A real case's unknown result is still refused: only check ids are passed over.
    stranger = step_result(UUID(int=7), "pago-tasa", UUID(int=1), "banco-nacion", "pago-tasa")
    with pytest.raises(Unprocessable, match="unknown case"):
        ledger.record_step_result(stranger)
