"""The management indicators at scale: `indicators_ms` over 100,000 cases in a week.

    PYTHONPATH=. .venv/bin/python bench/indicators.py [--cases N]

Fills the ANS projection (bench/sla.py's cases: two steps each) and the indicators projection
(one row per case, one in ten rejected by RENIEC) of a SQLite ledger, then times the week's
indicators read from both (best of three): the rows of the period and the figures computed from
them in Python, savings included. Catching the projections up is not part of the figure.
"""

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench import RESULTS, record
from bench.sla import WEEK, fill
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.projections.indicator_rows import CaseRow, indicator_rows_for
from services.case_ledger.projections.indicators import period_figures
from services.case_ledger.projections.sla_rows import sla_rows_for
from services.case_ledger.store import LedgerStore


def fill_cases(rows: object, cases: int, start: datetime) -> None:
    assert hasattr(rows, "changing")
    per_batch = 5000
    for first in range(0, cases, per_batch):
        with rows.changing(first, first + per_batch) as changes:
            for i in range(first, min(cases, first + per_batch)):
                at = start + WEEK * (i / cases)
                refused = i % 10 == 0
                changes.put_case(
                    CaseRow(str(uuid.UUID(int=i + 1)), "duplicado-dni", "mac-lima-norte", at,
                            at + WEEK / cases * 50, "rejected" if refused else "completed",
                            "refused" if refused else None,
                            "duplicado-dni" if refused else None, None, ("pago-tasa",))
                )  # fmt: skip


def measure(folder: Path, cases: int) -> dict[str, float]:
    ledger = CaseLedger(catalog(), LedgerStore.sqlite(folder / "ind.sqlite").environment())
    steps, rows = sla_rows_for(ledger.recorder), indicator_rows_for(ledger.recorder)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    fill(steps, cases, start)
    fill_cases(rows, cases, start)
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        report = period_figures(rows, steps, start, start + WEEK, ledger.catalog)
        best = min(best, time.perf_counter() - began)
    assert sum(d.attentions for d in report.channel_days) == cases
    ledger.close()
    return {"indicators_ms": round(best * 1000, 1), "indicators_cases": cases}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ventanilla-indicators-") as tmp:
        figures = measure(Path(tmp), args.cases)
    print(json.dumps(figures, indent=2))
    record(figures)
    print(f"written: {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
