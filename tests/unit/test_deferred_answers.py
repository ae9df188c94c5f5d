"""Deferred answers in the case file: an entity accepts a step now and answers it later.

The rule checked here: an answer counts only while the case is open and waits on that very
attempt; a final answer to an attempt that stopped counting (deadline passed, case closed) is
recorded once as `StepAnsweredLate` and changes nothing else; a repeat records nothing.
"""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from schemas.event_types import EventType
from schemas.procedures import DUPLICADO_DNI
from services.case_ledger.domain import CaseFile
from services.case_ledger.planner import StepProgress, plan_next
from tests.factories import CARD, RECEIPT, REFUND, step_result

CASE = UUID("00000000-0000-4000-8000-000000000008")
LATER = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def case_waiting_for_the_card(keep_events: bool = False) -> CaseFile:
    """A duplicado-dni case with the fee paid and the card requested from RENIEC."""
    case = CaseFile(
        case_id=CASE,
        procedure="duplicado-dni",
        channel="mac-lima-norte",
        citizen={"document_type": "DNI", "document_number": "40000001"},
        inputs={"reason": "perdida"},
        request_fingerprint="f" * 64,
        actor={"kind": "channel", "id": "mac-lima-norte"},
    )
    case.advance(DUPLICADO_DNI)
    fee = attempt(case, "pago-tasa")
    case.record_result("pago-tasa", fee, "banco-nacion", "completed", RECEIPT, None)
    case.advance(DUPLICADO_DNI)
    if not keep_events:
        case.collect_events()
    return case


def attempt(case: CaseFile, step_id: str) -> UUID:
    return case.steps[step_id].attempt_id


def names(case: CaseFile) -> list[str]:
    return [type(e).__name__ for e in case.collect_events()]


def accept(case: CaseFile, step_id: str = "duplicado-dni", entity: str = "reniec") -> bool:
    first = attempt(case, step_id)
    return case.record_result(step_id, first, entity, "accepted", {}, None, expected_by=LATER)


def test_an_accepted_step_stays_open_until_its_final_answer() -> None:
    case = case_waiting_for_the_card()

    assert accept(case)
    assert case.advance(DUPLICADO_DNI).dispatches == ()
    assert names(case) == [EventType.STEP_ACCEPTED]
    step = case.steps["duplicado-dni"]
    assert (step.status, step.expected_by) == ("accepted", LATER)
    assert case.status == "in_progress"

    card = attempt(case, "duplicado-dni")
    assert case.record_result("duplicado-dni", card, "reniec", "completed", CARD, None)
    case.advance(DUPLICADO_DNI)

    assert names(case) == [EventType.STEP_COMPLETED, EventType.CASE_COMPLETED]
    assert case.status == "completed"


def test_a_repeated_acceptance_or_final_answer_records_nothing() -> None:
    case = case_waiting_for_the_card()
    card = attempt(case, "duplicado-dni")

    assert accept(case)
    assert not accept(case)
    assert case.record_result("duplicado-dni", card, "reniec", "completed", CARD, None)
    assert not case.record_result("duplicado-dni", card, "reniec", "completed", CARD, None)
    assert not accept(case)  # an acceptance after the answer changes nothing either

    assert names(case) == [EventType.STEP_ACCEPTED, EventType.STEP_COMPLETED]


def test_the_deadline_covers_the_final_answer_and_a_late_one_is_only_recorded() -> None:
    case = case_waiting_for_the_card()
    first = attempt(case, "duplicado-dni")
    accept(case)
    deadline = DUPLICADO_DNI.step("duplicado-dni").deadline
    due = case.steps["duplicado-dni"].dispatched_at + deadline

    # Accepting moves no deadline: it still counts from the dispatch.
    assert case.next_deadline(DUPLICADO_DNI) == due
    assert case.overdue_steps(DUPLICADO_DNI, due - timedelta(seconds=1)) == []
    assert case.overdue_steps(DUPLICADO_DNI, due) == ["duplicado-dni"]
    case.expire("duplicado-dni", "no answer within the deadline")
    case.advance(DUPLICADO_DNI)
    assert names(case) == [
        EventType.STEP_ACCEPTED,
        EventType.STEP_OVERDUE,
        EventType.DATA_SHARED,
        EventType.STEP_DISPATCHED,
    ]

    # The first attempt's answer arrives now: recorded once, the second attempt still counts.
    assert case.record_result("duplicado-dni", first, "reniec", "completed", CARD, None)
    assert not case.record_result("duplicado-dni", first, "reniec", "completed", CARD, None)
    assert case.advance(DUPLICADO_DNI).dispatches == ()
    [late] = case.collect_events()
    assert type(late).__name__ == EventType.STEP_ANSWERED_LATE
    recorded = (late.attempt_id, late.outcome, late.result)  # type: ignore[attr-defined]
    assert recorded == (first, "completed", CARD)
    assert case.steps["duplicado-dni"].status == "dispatched"
    assert case.steps["duplicado-dni"].attempts == 2


def test_an_answer_after_the_case_was_compensated_and_closed_is_only_recorded() -> None:
    case = case_waiting_for_the_card()
    budget = DUPLICADO_DNI.step("duplicado-dni").max_attempts
    attempts = []
    for _ in range(budget):  # every attempt accepted, none answered in time
        attempts.append(attempt(case, "duplicado-dni"))
        accept(case)
        case.expire("duplicado-dni", "no answer within the deadline")
        case.advance(DUPLICADO_DNI)
    refund = attempt(case, "pago-tasa/compensation")
    case.record_result("pago-tasa/compensation", refund, "banco-nacion", "completed", REFUND, None)
    case.advance(DUPLICADO_DNI)
    assert case.status == "rejected"
    case.collect_events()

    for late in attempts:  # each attempt's answer, then each again
        assert case.record_result("duplicado-dni", late, "reniec", "rejected", {}, "observado")
        assert case.advance(DUPLICADO_DNI).dispatches == ()
    for late in attempts:
        assert not case.record_result("duplicado-dni", late, "reniec", "rejected", {}, "observado")

    assert names(case) == [EventType.STEP_ANSWERED_LATE] * budget
    assert case.status == "rejected"


def test_a_failing_case_waits_for_an_accepted_step_before_undoing() -> None:
    done = StepProgress("completed", 1, result=RECEIPT)
    accepted = {"pago-tasa": done, "duplicado-dni": StepProgress("accepted", 1)}
    refund_accepted = {
        "pago-tasa": done,
        "duplicado-dni": StepProgress("rejected", 1, reason="observado"),
        "pago-tasa/compensation": StepProgress("accepted", 1),
    }
    citizen = {"document_type": "DNI", "document_number": "40000001"}

    # Nothing to send while RENIEC works on it; no refund before its answer; no end either.
    for progress in (accepted, refund_accepted):
        plan = plan_next(DUPLICADO_DNI, CASE, citizen, {"reason": "perdida"}, progress)
        assert (plan.dispatches, plan.outcome) == ((), None)


def test_an_unknown_attempt_of_a_step_is_not_taken_for_a_late_answer() -> None:
    case = case_waiting_for_the_card()
    stranger = UUID("00000000-0000-4000-8000-00000000dead")

    assert not case.record_result("duplicado-dni", stranger, "reniec", "completed", CARD, None)
    assert names(case) == []


def test_replaying_the_events_rebuilds_the_accepted_step() -> None:
    case = case_waiting_for_the_card(keep_events=True)
    accept(case)

    rebuilt: Any = None
    for event in case.collect_events():
        rebuilt = event.mutate(rebuilt)

    assert isinstance(rebuilt, CaseFile)
    assert rebuilt.steps == case.steps
    assert rebuilt.steps["duplicado-dni"].status == "accepted"


def test_accepted_must_say_when_and_only_accepted_may() -> None:
    with pytest.raises(ValidationError, match="expected_by"):
        step_result(CASE, "duplicado-dni", CASE, "reniec", "duplicado-dni", outcome="accepted")
    completed = step_result(CASE, "duplicado-dni", CASE, "reniec", "duplicado-dni", data=CARD)
    with pytest.raises(ValidationError, match="expected_by"):
        type(completed).model_validate({**completed.model_dump(), "expected_by": LATER})
    accepted = {**completed.model_dump(), "outcome": "accepted", "data": {}, "expected_by": LATER}
    assert type(completed).model_validate(accepted).expected_by == LATER
