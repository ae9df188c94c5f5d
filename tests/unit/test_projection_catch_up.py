"""The ANS and indicators projections caught up from a SQLite ledger: both in one pass from
different positions, and rebuilt from the ledger when their tables are of another version."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.projections.indicator_rows import indicator_rows_for
from services.case_ledger.projections.indicators import ledger_indicators
from services.case_ledger.projections.sla import catch_up, ledger_sla_report
from services.case_ledger.projections.sla_rows import sla_rows_for
from services.case_ledger.store import LedgerStore
from tests.factories import run_case, submit_command


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[CaseLedger]:
    found = CaseLedger(catalog(), LedgerStore.sqlite(tmp_path / "l.sqlite").environment())
    yield found
    found.close()


def window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=2), now + timedelta(hours=2)


def test_both_projections_catch_up_in_one_pass_from_their_own_positions(
    ledger: CaseLedger,
) -> None:
    for dni in ("40000001", "40000002"):
        run_case(ledger, submit_command(dni))
    steps = sla_rows_for(ledger.recorder)
    assert catch_up(ledger, steps) > 0  # the ANS projection ahead of the indicators'
    run_case(ledger, submit_command("40000003"))
    report = ledger_indicators(ledger, *window())
    last = ledger.recorder.max_notification_id()
    assert steps.position() == indicator_rows_for(ledger.recorder).position() == last
    assert sum(d.attentions for d in report.channel_days) == 3
    assert len(steps.all_steps()) == sum(d.steps for d in report.step_days) == 6
    assert catch_up(ledger, steps) == 0


def test_tables_of_another_version_are_rebuilt_from_the_ledger(ledger: CaseLedger) -> None:
    for dni in ("40000001", "40000002"):
        run_case(ledger, submit_command(dni))
    now = datetime.now(UTC)
    before = ledger_sla_report(ledger, *window(), now)
    datastore = ledger.recorder.datastore  # type: ignore[attr-defined]
    with datastore.transaction(commit=True) as cursor:
        cursor.execute("UPDATE projection_schemas SET version = 1")  # as an older release left
        cursor.execute("DELETE FROM sla_hours")  # ... without the aggregates this one reads
    rows = sla_rows_for(ledger.recorder)
    assert rows.position() == 0
    assert ledger_sla_report(ledger, *window(), now) == before
    assert [line.steps for line in before] == [2, 2]
