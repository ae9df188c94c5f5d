"""The deadline watch reads a case only when one of its steps can be due."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from schemas.procedures import DUPLICADO_DNI, catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.deadlines import DeadlineWatch
from services.case_ledger.writer import LedgerThread
from tests.factories import step_result, submit_command


@pytest.fixture
def watch() -> Iterator[DeadlineWatch]:
    ledger = CaseLedger(catalog(), {"PERSISTENCE_MODULE": "eventsourcing.popo"})
    writer = LedgerThread("test-writer")
    yield DeadlineWatch(ledger, writer)
    writer.close()
    ledger.close()


async def test_a_fresh_dispatch_is_not_read_before_the_shortest_deadline(
    watch: DeadlineWatch,
) -> None:
    old = submit_command("40000001")
    watch.ledger.submit_case(old)
    await watch.follow_log()
    assert watch.due == {old.envelope.case_id: None}  # seen at start-up: look at it now

    now = datetime.now(UTC)
    await watch.expire_due(now)
    fee_deadline = DUPLICADO_DNI.step("pago-tasa").deadline
    exact = watch.due[old.envelope.case_id]
    assert exact is not None
    assert now + fee_deadline - timedelta(seconds=5) < exact <= now + fee_deadline

    new = submit_command("40000001")
    watch.ledger.submit_case(new)
    await watch.follow_log()
    bound = watch.due[new.envelope.case_id]
    assert bound is not None
    assert bound >= now - timedelta(seconds=5) + watch.shortest_deadline


async def test_an_overdue_step_is_recorded_and_dispatched_again(watch: DeadlineWatch) -> None:
    command = submit_command("40000001")
    watch.ledger.submit_case(command)
    await watch.follow_log()

    later = datetime.now(UTC) + DUPLICADO_DNI.step("pago-tasa").deadline + timedelta(seconds=1)
    await watch.expire_due(later)

    history = watch.ledger.case_history(command.envelope.case_id)
    assert [e.type for e in history.events][-2:] == ["StepOverdue", "StepDispatched"]
    assert watch.due[command.envelope.case_id] is not None  # the new attempt's deadline


async def test_a_finished_case_is_forgotten(watch: DeadlineWatch) -> None:
    command = submit_command("40000004")  # the bank declines: rejected at the first answer
    watch.ledger.submit_case(command)
    await watch.follow_log()
    assert command.envelope.case_id in watch.due
    case = watch.ledger.case_history(command.envelope.case_id)
    attempt = next(e for e in case.events if e.type == "StepDispatched").data["attempt_id"]
    watch.ledger.record_step_result(
        step_result(
            command.envelope.case_id,
            "pago-tasa",
            UUID(str(attempt)),
            "banco-nacion",
            "pago-tasa",
            outcome="rejected",
            reason="declined",
        )
    )
    await watch.follow_log()
    assert command.envelope.case_id not in watch.due
