"""Ledger appends as the inbox makes them, without the bus: whole duplicado-dni cases.

Three waves, as the streams would hand them over under load: every SubmitCase, then every fee
receipt, then every DNI card; each message with its tracking record, through the ledger
application's own methods. Only the waves are timed, not preparing the answers between them.
"""

import time
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from schemas.messages import StepResult
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from tests.factories import CARD, RECEIPT, step_result, submit_command


def _answers(ledger: CaseLedger, case_ids: list[UUID], step: str, entity: str) -> list[Any]:
    data = RECEIPT if entity == "banco-nacion" else CARD
    answers: list[StepResult] = []
    for case_id in case_ids:
        attempt = UUID(ledger.repository.get(case_id).steps[step]["attempt_id"])
        answers.append(step_result(case_id, step, attempt, entity, step, data=data))
    return answers


def measure(folder: Path, cases: int) -> dict[str, float]:
    ledger = CaseLedger(catalog(), LedgerStore.sqlite(folder / "appends.sqlite").environment())
    try:
        commands = [submit_command("40000001") for _ in range(cases)]
        case_ids = [c.envelope.case_id for c in commands]
        busy = 0.0
        start = time.perf_counter()
        for seq, command in enumerate(commands, 1):
            ledger.submit_case(command, Tracking("commands", seq))
        busy += time.perf_counter() - start
        seq = 0
        for step, entity in (("pago-tasa", "banco-nacion"), ("duplicado-dni", "reniec")):
            answers = _answers(ledger, case_ids, step, entity)
            start = time.perf_counter()
            for answer in answers:
                seq += 1
                ledger.record_step_result(answer, Tracking("results", seq))
            busy += time.perf_counter() - start
        events = ledger.recorder.max_notification_id() or 0
        assert all(ledger.case_view(c).status == "completed" for c in case_ids[:10])
    finally:
        ledger.close()
    return {"ledger_events_per_s": events / busy, "ledger_cases_per_s": cases / busy}
