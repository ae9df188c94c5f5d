"""The ANS report's rules on hand-made step rows, the same on the in-memory rows and on SQLite."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.projections.sla import report
from services.case_ledger.projections.sla_rows import (
    MemorySlaRows,
    SlaRows,
    StepRow,
    sla_rows_for,
)
from services.case_ledger.store import LedgerStore

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DEADLINE = catalog()["duplicado-dni"].step("duplicado-dni").deadline


def step(
    case: int, after: timedelta | None, *, overdue: bool = False, at: datetime = T0
) -> StepRow:
    finished = None if after is None else at + after
    return StepRow(
        f"case-{case}", "duplicado-dni", "duplicado-dni", "reniec", "duplicado-dni",
        at, finished, None if after is None else "completed", 1, overdue,
    )  # fmt: skip


ROWS = [
    step(1, timedelta(seconds=1)),
    step(2, timedelta(seconds=3)),
    step(3, DEADLINE),  # exactly at the deadline: within
    step(4, DEADLINE + timedelta(seconds=1)),  # late
    step(5, timedelta(seconds=2), overdue=True),  # an attempt was overdue, then answered fast
    step(6, None),  # unanswered, within its deadline: open
    step(7, None, at=T0 - DEADLINE - timedelta(minutes=1)),  # unanswered past it
    step(8, timedelta(seconds=1), at=T0 + timedelta(days=2)),  # outside the period
]


@pytest.fixture(params=["memory", "sqlite"])
def rows(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SlaRows]:
    found: SlaRows
    ledger = None
    if request.param == "memory":
        found = MemorySlaRows()
    else:
        ledger = CaseLedger(catalog(), LedgerStore.sqlite(tmp_path / "l.sqlite").environment())
        found = sla_rows_for(ledger.recorder)
    with found.changing(0, 1) as changes:
        for row in ROWS:
            changes.put_step(row)
    yield found
    if ledger is not None:
        ledger.close()


def test_breaches_open_steps_and_percentiles_follow_the_stated_rules(rows: SlaRows) -> None:
    now = T0 + timedelta(minutes=5)
    [line] = report(rows, catalog(), T0 - timedelta(hours=1), T0 + timedelta(days=1), now)
    assert line.deadline_s == DEADLINE.total_seconds()
    assert line.open == 1
    assert line.steps == 6  # five answered and one unanswered past its deadline
    assert line.within == 3
    assert line.within_pct == 50.0
    assert {b.case_id for b in line.breaches} == {"case-4", "case-5", "case-7"}
    assert next(b for b in line.breaches if b.case_id == "case-7").duration_s is None
    # Answered durations 1, 2, 3, 900, 901 s: nearest rank p50 = 3rd, p95 = 5th.
    assert line.p50_s == 3.0
    assert line.p95_s == DEADLINE.total_seconds() + 1


def test_another_entity_or_period_has_no_line(rows: SlaRows) -> None:
    now = T0 + timedelta(minutes=5)
    assert report(rows, catalog(), T0, T0 + timedelta(days=1), now, entity="sunarp") == []
    assert report(rows, catalog(), T0 - timedelta(days=9), T0 - timedelta(days=8), now) == []
