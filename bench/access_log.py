"""The citizen's access log at 10,000 and 100,000 stored cases (issue 13: at most 20 ms at both).

    PYTHONPATH=. .venv/bin/python -m bench --only access [--quick]

Fills one SQLite ledger with duplicado-dni cases whose fee is paid (five events each, one
`DataShared` among them) for 2,000 other citizens, plus three cases of the measured citizen, in
batches as the inbox saves them. At each size the projection first catches up (timed apart, as
events per second: the ledger process does that as it goes), then a query is timed: best of 20,
each a full `citizen_access_log` call (the catch-up check, the key lookup, the citizen's rows).
`--quick` measures at 1,000 and 10,000 cases and names its figures so.
"""

import time
from pathlib import Path

from harness.commands import RECEIPT, step_result, submit_command
from schemas.procedures import catalog
from services.case_ledger.access_log import citizen_access_log
from services.case_ledger.application import CaseLedger
from services.case_ledger.main import CACHED_CASES
from services.case_ledger.store import LedgerStore

CITIZEN = "40000001"
OTHERS = 2000
BATCH = 256


def _label(size: int) -> str:
    return f"{size // 1000}k"


def _fill(ledger: CaseLedger, dnis: list[str]) -> None:
    """One case per DNI, submitted and then its fee paid (so a DataShared is recorded)."""
    for offset in range(0, len(dnis), BATCH):
        submitted = ledger.batch()
        for dni in dnis[offset : offset + BATCH]:
            submitted.submit_case(submit_command(dni))
        cases = submitted.changed()
        ledger.save_batch(submitted, None)
        paid = ledger.batch()
        for case in cases:
            attempt = case.steps["pago-tasa"].attempt_id
            paid.record_step_result(
                step_result(
                    case.id, "pago-tasa", attempt, "banco-nacion", "pago-tasa", data=RECEIPT
                )
            )
        ledger.save_batch(paid, None)


def measure(folder: Path, quick: bool) -> dict[str, float]:
    sizes = (1_000, 10_000) if quick else (10_000, 100_000)
    ledger = CaseLedger(
        catalog(),
        LedgerStore.sqlite(folder / "access-log.sqlite").environment(),
        cached_cases=CACHED_CASES,
    )
    figures: dict[str, float] = {}
    stored = 0
    try:
        for size in sizes:
            mine = [CITIZEN] * 3 if stored == 0 else []
            count = size - stored - len(mine)
            _fill(
                ledger, mine + [f"4{1_000_000 + (stored + n) % OTHERS:07d}" for n in range(count)]
            )
            stored = size
            events = ledger.recorder.max_notification_id() or 0
            start = time.perf_counter()
            read = ledger.access.catch_up()
            elapsed = time.perf_counter() - start
            figures[f"access_log_catch_up_events_per_s_{_label(size)}"] = read / elapsed
            best = float("inf")
            for _ in range(20):
                start = time.perf_counter()
                log = citizen_access_log(ledger, CITIZEN)
                best = min(best, time.perf_counter() - start)
            assert len(log.entries) == 3, log
            figures[f"access_log_ms_{_label(size)}"] = best * 1000
            figures[f"access_log_events_{_label(size)}"] = events
    finally:
        ledger.close()
    return figures
