"""The ANS report at scale: `sla_report_ms` over 100,000 cases.

    PYTHONPATH=. .venv/bin/python bench/sla.py [--cases N]

Fills the ANS projection of a SQLite ledger with N duplicado-dni cases (two steps each, spread
over a week, one in a hundred RENIEC steps late) in the projection's own transactions, then
times the report over the whole week (best of three). What it measures is the report's read of
an up-to-date projection; catching the projection up is paid once per new event, by whoever
reads first, and is not part of this figure.
"""

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import RESULTS, record
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.projections.sla import report
from services.case_ledger.projections.sla_rows import StepRow, sla_rows_for
from services.case_ledger.store import LedgerStore

WEEK = timedelta(days=7)


def fill(rows: object, cases: int, start: datetime) -> None:
    assert hasattr(rows, "changing")
    procedure = catalog()["duplicado-dni"]
    fee_s, check_s = (
        procedure.step(s).deadline.total_seconds() for s in ("pago-tasa", "duplicado-dni")
    )
    per_batch = 5000
    for first in range(0, cases, per_batch):
        with rows.changing(first, first + per_batch) as changes:  # positions stand in for the log
            for i in range(first, min(cases, first + per_batch)):
                case_id = str(uuid.UUID(int=i + 1))
                at = start + WEEK * (i / cases)
                changes.add_case(case_id, "duplicado-dni", "mac-lima-norte")
                fee_done = at + timedelta(seconds=0.2 + (i % 7) * 0.05)
                late = i % 100 == 0
                changes.put_step(
                    StepRow(case_id, "pago-tasa", "duplicado-dni", "banco-nacion", "pago-tasa",
                            at, fee_done, "completed", 1, False, fee_s)
                )  # fmt: skip
                done = fee_done + timedelta(minutes=20 if late else 0.5 + (i % 11) * 0.1)
                changes.put_step(
                    StepRow(case_id, "duplicado-dni", "duplicado-dni", "reniec", "duplicado-dni",
                            fee_done, done, "completed", 2 if late else 1, late, check_s)
                )  # fmt: skip


def measure(folder: Path, cases: int) -> dict[str, float]:
    ledger = CaseLedger(catalog(), LedgerStore.sqlite(folder / "sla.sqlite").environment())
    rows = sla_rows_for(ledger.recorder)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    fill(rows, cases, start)
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        lines = report(rows, ledger.catalog, start, start + WEEK, start + WEEK)
        best = min(best, time.perf_counter() - began)
    assert sum(line.steps for line in lines) == 2 * cases
    ledger.close()
    return {
        "sla_report_ms": round(best * 1000, 1),
        "sla_report_cases": cases,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ventanilla-sla-") as tmp:
        figures = measure(Path(tmp), args.cases)
    print(json.dumps(figures, indent=2))
    record(figures)
    print(f"written: {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
