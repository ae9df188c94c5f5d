"""The ANS report's rules on hand-made step rows, the same on the in-memory rows and on SQLite."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.projections.histogram import bucket_of, bucket_value
from services.case_ledger.projections.sla import catch_up, report
from services.case_ledger.projections.sla_rows import (
    MemorySlaRows,
    SlaRows,
    StepRow,
    sla_rows_for,
    step_counts,
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
        DEADLINE.total_seconds(),
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
    # Answered durations 1, 2, 3, 900, 901 s: nearest rank p50 = 3rd, p95 = 5th, each
    # reported as the middle of its bucket, within 5 % of it.
    assert line.p50_s == bucket_value(bucket_of(3.0))
    assert line.p95_s == bucket_value(bucket_of(DEADLINE.total_seconds() + 1))
    assert line.p50_s == pytest.approx(3.0, rel=0.05)
    assert line.p95_s == pytest.approx(DEADLINE.total_seconds() + 1, rel=0.05)


def test_a_period_not_on_whole_hours_counts_the_steps_at_its_ends(rows: SlaRows) -> None:
    now = T0 + timedelta(minutes=5)
    # Part of the hour before T0's (case 7's), T0's whole hour, and part of the next.
    start, end = (
        T0 - DEADLINE - timedelta(minutes=1, seconds=10),
        T0 + timedelta(hours=1, seconds=30),
    )
    [line] = report(rows, catalog(), start, end, now)
    assert (line.steps, line.within, line.open) == (6, 3, 1)
    [only_late] = report(rows, catalog(), T0 - DEADLINE - timedelta(minutes=2), T0, now)
    assert (only_late.steps, [b.case_id for b in only_late.breaches]) == (1, ["case-7"])
    assert report(rows, catalog(), T0 + timedelta(seconds=1), T0 + timedelta(minutes=59), now) == []


def test_a_retried_step_moves_out_of_its_answered_bucket(rows: SlaRows) -> None:
    first = next(r for r in ROWS if r.case_id == "case-1")
    again = StepRow(**{**first.__dict__, "finished_at": None, "outcome": None, "attempts": 2})
    waiting = next(r for r in ROWS if r.case_id == "case-6")
    with rows.changing(1, 2) as changes:
        changes.put_step(again, first)
        # Dispatched again while still open (its attempt redelivered): only a retry more.
        changes.put_step(StepRow(**{**waiting.__dict__, "attempts": 2}), waiting)
    now = T0 + timedelta(minutes=5)
    [line] = report(rows, catalog(), T0 - timedelta(hours=1), T0 + timedelta(days=1), now)
    assert (line.steps, line.within, line.open) == (5, 2, 2)
    day = [c for c in step_counts(rows, T0 - timedelta(hours=1), T0 + timedelta(days=1))
           if c.outcome is None]  # fmt: skip
    assert sum(c.steps for c in day) == 3
    assert sum(c.retries for c in day) == 2


def test_a_projection_of_another_schema_is_rebuilt_from_the_ledger(tmp_path: Path) -> None:
    ledger = CaseLedger(catalog(), LedgerStore.sqlite(tmp_path / "l.sqlite").environment())
    datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as cursor:  # the tables as an older version left them
        cursor.execute("CREATE TABLE sla_steps (case_id TEXT, step_id TEXT, overdue INTEGER)")
        cursor.execute("CREATE TABLE sla_position (name TEXT PRIMARY KEY, position INTEGER)")
        cursor.execute("INSERT INTO sla_position VALUES ('sla', 12)")
    rows = sla_rows_for(ledger.recorder)
    assert rows.position() == 0
    assert rows.all_steps() == []
    assert catch_up(ledger, rows) == 0  # an empty ledger: nothing to read, nothing failed
    assert sla_rows_for(ledger.recorder).position() == 0  # the same version now: kept
    ledger.close()


def test_another_entity_or_period_has_no_line(rows: SlaRows) -> None:
    now = T0 + timedelta(minutes=5)
    assert report(rows, catalog(), T0, T0 + timedelta(days=1), now, entity="sunarp") == []
    assert report(rows, catalog(), T0 - timedelta(days=9), T0 - timedelta(days=8), now) == []
