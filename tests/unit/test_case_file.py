"""The case file aggregate: decisions, repeats, and replay from its own events."""

from uuid import UUID

import pytest

from schemas.event_types import EventType
from schemas.procedures import DUPLICADO_DNI
from services.case_ledger.domain import ERASED, ERASED_REASON, CaseFile, StepMismatch
from tests.factories import CARD, RECEIPT, REFUND

CASE = UUID("00000000-0000-4000-8000-000000000001")


def new_case(dni: str = "40000001") -> CaseFile:
    case = CaseFile(
        case_id=CASE,
        procedure="duplicado-dni",
        channel="mac-lima-norte",
        citizen={"document_type": "DNI", "document_number": dni},
        inputs={"reason": "perdida"},
        request_fingerprint="f" * 64,
        actor={"kind": "channel", "id": "mac-lima-norte"},
    )
    case.advance(DUPLICADO_DNI)
    return case


def event_names(case: CaseFile) -> list[str]:
    return [type(e).__name__ for e in case.collect_events()]


def attempt_of(case: CaseFile, step_id: str) -> UUID:
    return case.steps[step_id].attempt_id


def test_submitting_opens_the_case_and_dispatches_the_fee() -> None:
    case = new_case()

    assert case.id == CASE
    assert case.status == "in_progress"
    assert event_names(case) == [EventType.CASE_SUBMITTED, EventType.STEP_DISPATCHED]
    assert case.steps["pago-tasa"].status == "dispatched"


def test_a_case_runs_to_completed_recording_the_data_shared() -> None:
    case = new_case()
    fee = attempt_of(case, "pago-tasa")
    case.collect_events()

    assert case.record_result("pago-tasa", fee, "banco-nacion", "completed", RECEIPT, None)
    case.advance(DUPLICADO_DNI)
    assert event_names(case) == [
        EventType.STEP_COMPLETED,
        EventType.DATA_SHARED,
        EventType.STEP_DISPATCHED,
    ]

    card = attempt_of(case, "duplicado-dni")
    assert case.record_result("duplicado-dni", card, "reniec", "completed", CARD, None)
    case.advance(DUPLICADO_DNI)
    assert event_names(case) == [EventType.STEP_COMPLETED, EventType.CASE_COMPLETED]
    assert case.status == "completed"


def test_a_repeated_answer_changes_nothing() -> None:
    case = new_case()
    fee = attempt_of(case, "pago-tasa")
    case.record_result("pago-tasa", fee, "banco-nacion", "completed", RECEIPT, None)
    case.collect_events()

    assert not case.record_result("pago-tasa", fee, "banco-nacion", "completed", RECEIPT, None)
    assert event_names(case) == []


def test_an_answer_from_the_wrong_entity_or_for_an_unknown_step_is_refused() -> None:
    case = new_case()
    fee = attempt_of(case, "pago-tasa")

    with pytest.raises(StepMismatch, match="belongs to banco-nacion"):
        case.record_result("pago-tasa", fee, "reniec", "completed", RECEIPT, None)
    with pytest.raises(StepMismatch, match="no dispatched step"):
        case.record_result("duplicado-dni", fee, "reniec", "completed", CARD, None)


def test_a_refusal_after_paying_refunds_the_fee_then_rejects_the_case() -> None:
    case = new_case("40000002")
    case.record_result(
        "pago-tasa", attempt_of(case, "pago-tasa"), "banco-nacion", "completed", RECEIPT, None
    )
    case.advance(DUPLICADO_DNI)
    card = attempt_of(case, "duplicado-dni")
    case.collect_events()
    case.record_result("duplicado-dni", card, "reniec", "rejected", {}, "no record of this DNI")
    case.advance(DUPLICADO_DNI)

    assert event_names(case) == [EventType.STEP_REJECTED, EventType.COMPENSATION_DISPATCHED]
    assert case.status == "in_progress"
    refund = case.steps["pago-tasa/compensation"]
    assert (refund.entity, refund.service, refund.compensates) == (
        "banco-nacion",
        "devolucion-tasa",
        "pago-tasa",
    )

    undo = attempt_of(case, "pago-tasa/compensation")
    case.record_result("pago-tasa/compensation", undo, "banco-nacion", "completed", REFUND, None)
    case.advance(DUPLICADO_DNI)

    assert event_names(case) == [EventType.COMPENSATION_COMPLETED, EventType.CASE_REJECTED]
    assert case.status == "rejected"
    assert case.reason == "reniec: no record of this DNI"
    # A final case takes no further steps, whatever arrives later.
    case.advance(DUPLICADO_DNI)
    assert event_names(case) == []


def test_a_refusal_before_anything_was_done_rejects_at_once() -> None:
    case = new_case("40000004")
    case.collect_events()
    fee = attempt_of(case, "pago-tasa")
    case.record_result("pago-tasa", fee, "banco-nacion", "rejected", {}, "payment declined")
    case.advance(DUPLICADO_DNI)

    assert event_names(case) == [EventType.STEP_REJECTED, EventType.CASE_REJECTED]
    assert case.reason == "banco-nacion: payment declined"


def test_replaying_the_events_rebuilds_the_same_case() -> None:
    case = new_case()
    case.record_result(
        "pago-tasa", attempt_of(case, "pago-tasa"), "banco-nacion", "completed", RECEIPT, None
    )
    case.advance(DUPLICADO_DNI)
    events = case.collect_events()

    replayed: CaseFile | None = None
    for stored in events:
        replayed = stored.mutate(replayed)  # type: ignore[arg-type,assignment]

    assert replayed is not None
    assert replayed.status == case.status
    assert replayed.steps == case.steps
    assert replayed.version == case.version


def test_a_step_past_its_deadline_is_expired_and_dispatched_again() -> None:
    case = new_case()
    dispatched_at = case.steps["pago-tasa"].dispatched_at
    deadline = DUPLICADO_DNI.step("pago-tasa").deadline
    first = attempt_of(case, "pago-tasa")

    assert case.overdue_steps(DUPLICADO_DNI, dispatched_at + deadline / 2) == []
    assert case.next_deadline(DUPLICADO_DNI) == dispatched_at + deadline
    assert case.overdue_steps(DUPLICADO_DNI, dispatched_at + deadline) == ["pago-tasa"]

    case.collect_events()
    case.expire("pago-tasa", "no answer within the deadline")
    case.advance(DUPLICADO_DNI)

    assert event_names(case) == [EventType.STEP_OVERDUE, EventType.STEP_DISPATCHED]
    assert case.steps["pago-tasa"].attempts == 2
    case.collect_events()
    # The late answer to the first attempt no longer counts: it is only recorded, once.
    assert case.record_result("pago-tasa", first, "banco-nacion", "completed", RECEIPT, None)
    assert not case.record_result("pago-tasa", first, "banco-nacion", "completed", RECEIPT, None)
    assert event_names(case) == [EventType.STEP_ANSWERED_LATE]
    assert case.steps["pago-tasa"].status == "dispatched"


def test_a_case_whose_citizen_was_erased_closes_instead_of_sending_requests() -> None:
    case = new_case()
    fee = attempt_of(case, "pago-tasa")
    case.collect_events()
    case.citizen["document_number"] = ERASED  # as the ledger reads it back after an erasure

    assert case.record_result("pago-tasa", fee, "banco-nacion", "completed", RECEIPT, None)
    plan = case.advance(DUPLICADO_DNI)

    assert plan.dispatches == ()
    assert event_names(case) == [EventType.STEP_COMPLETED, EventType.CASE_REJECTED]
    assert (case.status, case.reason) == ("rejected", ERASED_REASON)


def test_a_case_whose_steps_are_all_done_completes_even_if_its_citizen_was_erased() -> None:
    case = new_case()
    case.record_result(
        "pago-tasa", attempt_of(case, "pago-tasa"), "banco-nacion", "completed", RECEIPT, None
    )
    case.advance(DUPLICADO_DNI)
    card = attempt_of(case, "duplicado-dni")
    case.citizen["document_number"] = ERASED

    case.record_result("duplicado-dni", card, "reniec", "completed", CARD, None)
    case.advance(DUPLICADO_DNI)

    assert case.status == "completed"
    assert case.subject_of("duplicado-dni") == "40000001"  # whom the request was about
