"""The deadline watch expires a step its entity did not answer in time, and reads a case from the
ledger only when one of its steps can be due."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from schemas.event_types import EventType
from schemas.procedures import DUPLICADO_DNI, catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.deadlines import DeadlineWatch
from services.case_ledger.writer import LedgerThread
from tests.factories import step_result, submit_command

FEE_DEADLINE = DUPLICADO_DNI.step("pago-tasa").deadline  # the first step of a duplicado-dni
SHORTEST = min(step.deadline for proc in catalog().values() for step in proc.steps)
SECOND = timedelta(seconds=1)


class CountingLedger(CaseLedger):
    """The real ledger, counting the cases the watch reads to expire their steps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads: list[UUID] = []

    def expire_overdue(self, case_id: UUID, now: datetime) -> datetime | None:
        self.reads.append(case_id)
        return super().expire_overdue(case_id, now)


@pytest.fixture
def watch() -> Iterator[DeadlineWatch]:
    ledger = CountingLedger(catalog(), {"PERSISTENCE_MODULE": "eventsourcing.popo"})
    writer = LedgerThread("test-writer")
    yield DeadlineWatch(ledger, writer)
    writer.close()
    ledger.close()


def reads(watch: DeadlineWatch) -> list[UUID]:
    """The cases the watch read since the last call."""
    assert isinstance(watch.ledger, CountingLedger)
    read, watch.ledger.reads = watch.ledger.reads, []
    return read


def submit(watch: DeadlineWatch, dni: str = "40000001") -> UUID:
    command = submit_command(dni)
    watch.ledger.submit_case(command)
    return command.envelope.case_id


def events(watch: DeadlineWatch, case_id: UUID) -> list[str]:
    return [e.type for e in watch.ledger.case_history(case_id).events]


async def test_a_case_found_at_start_up_is_read_at_once_then_not_before_its_deadline(
    watch: DeadlineWatch,
) -> None:
    case_id = submit(watch)
    now = datetime.now(UTC)
    await watch.follow_log()

    await watch.expire_due(now)  # dispatched before the watch started: of any age
    assert reads(watch) == [case_id]
    await watch.expire_due(now + FEE_DEADLINE - 5 * SECOND)
    assert reads(watch) == []
    assert events(watch, case_id)[-1] == EventType.STEP_DISPATCHED

    await watch.expire_due(now + FEE_DEADLINE + SECOND)

    assert reads(watch) == [case_id]
    assert events(watch, case_id)[-2:] == [EventType.STEP_OVERDUE, EventType.STEP_DISPATCHED]


async def test_a_case_dispatched_while_watching_waits_for_the_shortest_deadline(
    watch: DeadlineWatch,
) -> None:
    await watch.follow_log()  # the first round: the watch is running
    case_id = submit(watch)
    now = datetime.now(UTC)
    await watch.follow_log()

    await watch.expire_due(now)
    await watch.expire_due(now + SHORTEST - 5 * SECOND)
    assert reads(watch) == []

    await watch.expire_due(now + SHORTEST + SECOND)
    assert reads(watch) == [case_id]


async def test_an_overdue_step_is_dispatched_again_and_watched_until_its_own_deadline(
    watch: DeadlineWatch,
) -> None:
    case_id = submit(watch)
    await watch.follow_log()
    await watch.expire_due(datetime.now(UTC) + FEE_DEADLINE + SECOND)
    redispatched = datetime.now(UTC)  # the ledger stamps the new attempt with the real clock
    await watch.follow_log()
    attempts = [
        e.data["attempt"]
        for e in watch.ledger.case_history(case_id).events
        if e.type == EventType.STEP_DISPATCHED
    ]
    assert attempts == [1, 2]

    await watch.expire_due(redispatched + FEE_DEADLINE - 5 * SECOND)
    assert (
        events(watch, case_id).count(EventType.STEP_OVERDUE) == 1
    )  # the new attempt is not due yet

    await watch.expire_due(redispatched + FEE_DEADLINE + SECOND)
    assert events(watch, case_id).count(EventType.STEP_OVERDUE) == 2
    assert events(watch, case_id)[-1] == EventType.STEP_DISPATCHED  # the third and last attempt


async def test_a_finished_case_is_not_read_again(watch: DeadlineWatch) -> None:
    case_id = submit(watch, "40000004")  # the bank declines: rejected at the first answer
    await watch.follow_log()
    case = watch.ledger.case_history(case_id)
    attempt = next(e for e in case.events if e.type == EventType.STEP_DISPATCHED).data["attempt_id"]
    watch.ledger.record_step_result(
        step_result(
            case_id,
            "pago-tasa",
            UUID(str(attempt)),
            "banco-nacion",
            "pago-tasa",
            outcome="rejected",
            reason="declined",
        )
    )
    assert events(watch, case_id)[-1] == EventType.CASE_REJECTED
    await watch.follow_log()
    before = events(watch, case_id)

    await watch.expire_due(datetime.now(UTC) + 100 * FEE_DEADLINE)

    assert reads(watch) == []
    assert events(watch, case_id) == before
