"""The procedure planner decides what a case does next, from the catalog alone."""

from dataclasses import replace
from uuid import UUID

from schemas.catalog import FromStep, build_catalog
from schemas.procedures import DUPLICADO_DNI, PASAPORTE_ELECTRONICO
from services.case_ledger.planner import Plan, StepProgress, attempt_id, operation_id, plan_next
from tests.factories import RECEIPT

CASE = UUID("00000000-0000-4000-8000-000000000001")
CITIZEN = {"document_type": "DNI", "document_number": "40000001"}
INPUTS = {"reason": "perdida"}


def plan(progress: dict[str, StepProgress]):  # type: ignore[no-untyped-def]
    return plan_next(DUPLICADO_DNI, CASE, CITIZEN, INPUTS, progress)


def test_a_new_case_asks_only_for_the_fee_first() -> None:
    result = plan({})

    assert result.outcome is None
    assert [d.step_id for d in result.dispatches] == ["pago-tasa"]
    fee = result.dispatches[0]
    assert (fee.entity, fee.service, fee.attempt) == ("banco-nacion", "pago-tasa", 1)
    assert fee.request["amount_pen"] == "23.40"
    assert fee.request["citizen"] == CITIZEN
    assert fee.request["attempt_id"] == str(fee.attempt_id)
    assert fee.shared == ()


def test_the_receipt_travels_to_reniec_as_dl_1211_data_sharing() -> None:
    result = plan({"pago-tasa": StepProgress("completed", 1, result=RECEIPT)})

    [duplicate] = result.dispatches
    assert (duplicate.entity, duplicate.service) == ("reniec", "duplicado-dni")
    assert duplicate.request["payment_receipt"] == RECEIPT["receipt_number"]
    assert duplicate.request["reason"] == "perdida"
    [shared] = duplicate.shared
    assert (shared.from_entity, shared.to_entity) == ("banco-nacion", "reniec")
    assert shared.fields == ("receipt_number",)
    assert shared.legal_basis == "DL 1211"
    assert shared.purpose


def test_a_dispatched_step_is_not_dispatched_again() -> None:
    result = plan({"pago-tasa": StepProgress("dispatched", 1)})

    assert result.dispatches == ()
    assert result.outcome is None


def test_all_steps_done_completes_the_case() -> None:
    done = StepProgress("completed", 1, result=RECEIPT)
    result = plan({"pago-tasa": done, "duplicado-dni": replace(done, result={})})

    assert result.outcome == "completed"
    assert result.dispatches == ()


def test_a_business_refusal_rejects_the_case_naming_the_entity() -> None:
    result = plan({"pago-tasa": StepProgress("rejected", 1, reason="payment declined")})

    assert result.outcome == "rejected"
    assert result.reason == "banco-nacion: payment declined"
    assert result.dispatches == ()


def test_a_refusal_after_paying_dispatches_the_refund_with_the_receipt() -> None:
    result = plan(
        {
            "pago-tasa": StepProgress("completed", 1, result=RECEIPT),
            "duplicado-dni": StepProgress("rejected", 1, reason="no record of this DNI"),
        }
    )

    assert result.outcome is None
    [refund] = result.dispatches
    assert (refund.step_id, refund.entity, refund.service) == (
        "pago-tasa/compensation",
        "banco-nacion",
        "devolucion-tasa",
    )
    assert refund.compensates == "pago-tasa"
    assert refund.request["receipt_number"] == RECEIPT["receipt_number"]
    assert refund.shared == ()  # the bank reads its own receipt: no exchange between entities
    assert refund.request["operation_id"] == str(operation_id(CASE, "pago-tasa/compensation"))


def test_the_case_is_rejected_once_the_refund_is_done() -> None:
    progress = {
        "pago-tasa": StepProgress("completed", 1, result=RECEIPT),
        "duplicado-dni": StepProgress("rejected", 1, reason="no record of this DNI"),
        "pago-tasa/compensation": StepProgress("dispatched", 1),
    }
    assert plan(progress) == Plan()  # waiting for the bank

    progress["pago-tasa/compensation"] = StepProgress("completed", 1, result={})
    result = plan(progress)
    assert result.outcome == "rejected"
    assert result.reason == "reniec: no record of this DNI"


def test_a_refund_that_cannot_be_done_is_named_in_the_reason() -> None:
    budget = DUPLICADO_DNI.step("pago-tasa").max_attempts
    result = plan(
        {
            "pago-tasa": StepProgress("completed", 1, result=RECEIPT),
            "duplicado-dni": StepProgress("rejected", 1, reason="no record of this DNI"),
            "pago-tasa/compensation": StepProgress("failed", budget, reason="bank offline"),
        }
    )
    assert result.outcome == "rejected"
    assert result.reason is not None
    assert "could not undo pago-tasa (bank offline)" in result.reason


def test_a_failing_case_waits_for_steps_in_flight_before_undoing() -> None:
    result = plan_next(
        PASAPORTE_ELECTRONICO,
        CASE,
        CITIZEN,
        {},
        {
            "identidad": StepProgress("rejected", 1, reason="no record"),
            "pago-tasa": StepProgress("dispatched", 1),
        },
    )
    assert result == Plan()


def test_the_same_step_keeps_its_idempotency_key_across_attempts() -> None:
    first = plan({}).dispatches[0]
    retry = plan({"pago-tasa": StepProgress("failed", 1, reason="timeout")}).dispatches[0]

    assert first.request["operation_id"] == retry.request["operation_id"]
    assert first.attempt_id != retry.attempt_id


def test_a_technical_failure_is_retried_with_a_new_attempt_id() -> None:
    result = plan({"pago-tasa": StepProgress("failed", 1, reason="timeout")})

    [retry] = result.dispatches
    assert retry.attempt == 2
    assert retry.attempt_id == attempt_id(CASE, "pago-tasa", 2)
    assert retry.attempt_id != attempt_id(CASE, "pago-tasa", 1)


def test_failures_beyond_the_step_budget_reject_the_case() -> None:
    budget = DUPLICADO_DNI.step("pago-tasa").max_attempts
    result = plan({"pago-tasa": StepProgress("failed", budget, reason="timeout")})

    assert result.outcome == "rejected"
    assert result.reason is not None
    assert "banco-nacion" in result.reason
    assert str(budget) in result.reason


def test_attempt_ids_are_deterministic_so_replanning_names_the_same_attempt() -> None:
    assert plan({}).dispatches[0].attempt_id == plan({}).dispatches[0].attempt_id
    assert attempt_id(CASE, "pago-tasa", 1) != attempt_id(
        UUID("00000000-0000-4000-8000-000000000002"), "pago-tasa", 1
    )


def test_completed_steps_are_undone_one_at_a_time_latest_first() -> None:
    fee = DUPLICADO_DNI.step("pago-tasa")
    assert fee.compensation is not None
    second_fee = replace(
        fee,
        id="pago-extra",
        after=("pago-tasa",),
        compensation=replace(
            fee.compensation,
            request={
                **fee.compensation.request,
                "receipt_number": FromStep("pago-extra", "receipt_number", purpose="Refund"),
            },
        ),
    )
    duplicate = replace(DUPLICADO_DNI.step("duplicado-dni"), after=("pago-extra",))
    [proc] = build_catalog((replace(DUPLICADO_DNI, steps=(fee, second_fee, duplicate)),)).values()
    progress = {
        "pago-tasa": StepProgress("completed", 1, result=RECEIPT),
        "pago-extra": StepProgress("completed", 1, result={**RECEIPT, "receipt_number": "BN-2"}),
        "duplicado-dni": StepProgress("rejected", 1, reason="no record of this DNI"),
    }

    [first] = plan_next(proc, CASE, CITIZEN, INPUTS, progress).dispatches
    assert first.compensates == "pago-extra"
    assert first.request["receipt_number"] == "BN-2"

    progress["pago-extra/compensation"] = StepProgress("completed", 1, result={})
    [second] = plan_next(proc, CASE, CITIZEN, INPUTS, progress).dispatches
    assert second.compensates == "pago-tasa"
