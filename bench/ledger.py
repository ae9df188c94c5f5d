"""Audit figures beside raw eventsourcing read speed, measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/ledger.py [--store sqlite|postgres] [--cases N] [--long N]

Writes `--cases` two-event cases plus one case of `--long` events, then times: reading every
stored event through eventsourcing's recorder (raw), `audit verify` over them, replaying the long
case, and exporting and verifying its bundle. PostgreSQL uses VENTANILLA_TEST_POSTGRES (a
throwaway schema, dropped afterwards).
"""

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from harness.commands import submit_command
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.bundle_check import verify_bundle
from services.case_ledger.audit.keys import load_signing_key
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.domain import CaseFile
from services.case_ledger.store import LedgerStore

DSN = os.environ.get("VENTANILLA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def long_case(ledger: CaseLedger, events: int) -> uuid.UUID:
    command = submit_command("40000001")
    ledger.submit_case(command)
    case_id = command.envelope.case_id
    case: CaseFile = ledger.repository.get(case_id)
    while case.version < events:
        for _ in range(min(50, events - case.version)):
            case._case_rejected(reason="bench", actor={"kind": "ledger", "id": "bench"})
        ledger.save(case)
    return case_id


def measure(store: LedgerStore, cases: int, long: int, folder: Path) -> dict[str, float]:
    """The audit figures in seconds (best of three) beside the number of events measured."""
    ledger = CaseLedger(catalog(), store.environment())
    for _ in range(cases):
        ledger.submit_case(submit_command("40000001"))
    case_id = long_case(ledger, long)
    files = AuditFiles(folder / "key.pem", folder / "checkpoints.jsonl")
    audit = LedgerAudit(ledger.recorder, files)
    audit.checkpoint()
    total = ledger.recorder.max_notification_id() or 0

    raw, _ = timed(lambda: sum(1 for _ in _all(ledger)))
    verify, report = timed(audit.verify)
    assert report.intact, report.findings
    replay, _ = timed(lambda: ledger.case_replay(case_id, version=long))
    raw_case, _ = timed(lambda: list(ledger.recorder.select_events(case_id)))
    export, bundle = timed(lambda: audit.export(str(case_id)))
    key = load_signing_key(files.signing_key).public_key()
    document = json.dumps(bundle, indent=2).encode()
    check, bundle_report = timed(lambda: verify_bundle(document, key))
    assert bundle_report.intact, bundle_report.problems
    ledger.close()
    return {
        "events": total,
        "raw_read_events_per_s": total / raw,
        "verify_events_per_s": total / verify,
        "raw_read_1000_ms": raw_case * 1000,
        "replay_1000_ms": replay * 1000,
        "export_ms": export * 1000,
        "bundle_check_ms": check * 1000,
    }


def run(store: LedgerStore, cases: int, long: int, folder: Path) -> dict[str, str]:
    m = measure(store, cases, long, folder)
    return {
        "events": f"{m['events']:.0f}",
        "raw read (events/s)": f"{m['raw_read_events_per_s']:,.0f}",
        "audit verify (events/s)": f"{m['verify_events_per_s']:,.0f}",
        f"raw read of the {long}-event case (ms)": f"{m['raw_read_1000_ms']:.1f}",
        f"replay of the {long}-event case (ms)": f"{m['replay_1000_ms']:.1f}",
        "export of its bundle (ms)": f"{m['export_ms']:.1f}",
        "offline bundle verification (ms)": f"{m['bundle_check_ms']:.1f}",
    }


def _all(ledger: CaseLedger) -> Any:
    position = 1
    while True:
        page = ledger.recorder.select_notifications(start=position, limit=1000)
        yield from page
        if len(page) < 1000:
            return
        position = page[-1].id + 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--long", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.store == "sqlite":
            figures = run(
                LedgerStore.sqlite(folder / "ledger.sqlite"), args.cases, args.long, folder
            )
        else:
            schema = f"ventanilla_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(DSN, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                master_key = folder / "personal-data-master.key"  # never in the database
                store = LedgerStore(f"{DSN}?schema={schema}", master_key)
                figures = run(store, args.cases, args.long, folder)
            finally:
                with psycopg.connect(DSN, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(f"| {args.store} | value |\n| --- | --- |")
    for name, value in figures.items():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
