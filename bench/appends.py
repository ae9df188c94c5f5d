"""Ledger appends as the inbox makes them, without the bus: whole duplicado-dni cases.

Three waves, as the streams would hand them over under load: every SubmitCase, then every fee
receipt, then every DNI card, through the ledger application's own methods with their tracking
records: in batches of up to 256 messages saved in one transaction each, as the inbox saves what
one fetch brings (and, for comparison, one transaction per message). Only the waves are timed,
not preparing the answers between them.
"""

import time
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from harness.commands import CARD, RECEIPT, step_result, submit_command
from schemas.messages import StepResult
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.main import CACHED_CASES
from services.case_ledger.store import LedgerStore


def _answers(ledger: CaseLedger, case_ids: list[UUID], step: str, entity: str) -> list[Any]:
    data = RECEIPT if entity == "banco-nacion" else CARD
    answers: list[StepResult] = []
    for case_id in case_ids:
        attempt = ledger.repository.get(case_id).steps[step].attempt_id
        answers.append(step_result(case_id, step, attempt, entity, step, data=data))
    return answers


def _wave(ledger: CaseLedger, source: str, first: int, messages: list[Any], batch: int) -> float:
    start = time.perf_counter()
    for offset in range(0, len(messages), batch):
        changes = ledger.batch()
        chunk = messages[offset : offset + batch]
        for message in chunk:
            if source == "commands":
                changes.submit_case(message)
            else:
                changes.record_step_result(message)
        ledger.save_batch(changes, Tracking(source, first + offset + len(chunk) - 1))
    return time.perf_counter() - start


def _cases(folder: Path, cases: int, batch: int, cached: int) -> tuple[int, float]:
    path = folder / f"appends-{batch}-{cached}.sqlite"
    ledger = CaseLedger(catalog(), LedgerStore.sqlite(path).environment(), cached_cases=cached)
    try:
        commands = [submit_command("40000001") for _ in range(cases)]
        case_ids = [c.envelope.case_id for c in commands]
        busy = _wave(ledger, "commands", 1, commands, batch)
        seq = 1
        for step, entity in (("pago-tasa", "banco-nacion"), ("duplicado-dni", "reniec")):
            answers = _answers(ledger, case_ids, step, entity)
            busy += _wave(ledger, "results", seq, answers, batch)
            seq += len(answers)
        events = ledger.recorder.max_notification_id() or 0
        assert all(ledger.case_view(c).status == "completed" for c in case_ids[:10])
    finally:
        ledger.close()
    return events, busy


def measure(folder: Path, cases: int) -> dict[str, float]:
    # As the ledger process runs it, and as it ran before group commit and the case cache.
    events, busy = _cases(folder, cases, batch=256, cached=CACHED_CASES)
    one_events, one_busy = _cases(folder, max(100, cases // 5), batch=1, cached=0)
    return {
        "ledger_events_per_s": events / busy,
        "ledger_cases_per_s": cases / busy,
        "ledger_events_per_s_1_per_commit": one_events / one_busy,
    }
