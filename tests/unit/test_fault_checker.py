"""The fault suite's checker finds what it is there to find (no network: a SQLite ledger and
effect logs written by hand)."""

from pathlib import Path

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.planner import operation_id
from services.case_ledger.store import LedgerStore
from services.entity_adapters.backoffices.effects import EffectLog
from tests.factories import CARD, RECEIPT, answer, submit, submit_command
from tests.faults.checker import check


def test_lost_cases_stray_cases_and_unrecorded_effects_are_counted(tmp_path: Path) -> None:
    store = LedgerStore.sqlite(tmp_path / "ledger.sqlite")
    backoffices = tmp_path / "backoffices"
    bank = EffectLog(backoffices / "banco-nacion.sqlite")
    ledger = CaseLedger(catalog(), store.environment())
    try:
        done = submit(ledger, "40000001")
        answer(ledger, done, "pago-tasa", outcome="completed", data=RECEIPT)
        answer(ledger, done, "duplicado-dni", outcome="completed", data=CARD)
        waiting = submit(ledger, "40000001")
        stray = submit(ledger, "40000001")  # no channel was told about this one
    finally:
        ledger.close()
    bank.once(str(operation_id(done, "pago-tasa")), "fee-charged", lambda: {})
    # Charged for a step the ledger never saw completed: the citizen paid, the ledger doesn't know.
    bank.once(str(operation_id(waiting, "pago-tasa")), "fee-charged", lambda: {})
    never_recorded = submit_command("40000001").envelope.case_id

    tally = check("unit", store, backoffices, [done, waiting, never_recorded], seconds=0.0)

    assert (tally.submitted, tally.final, tally.lost) == (3, 1, 2)
    assert tally.ledger_duplicates == 1  # the stray case
    assert tally.effect_duplicates == 1
    assert not tally.clean
    assert any(str(stray) in p for p in tally.problems)


def test_a_clean_run_is_clean(tmp_path: Path) -> None:
    store = LedgerStore.sqlite(tmp_path / "ledger.sqlite")
    ledger = CaseLedger(catalog(), store.environment())
    try:
        case_id = submit(ledger, "40000004")
        answer(ledger, case_id, "pago-tasa", outcome="rejected", reason="declined")
    finally:
        ledger.close()
    tally = check("unit", store, tmp_path / "backoffices", [case_id], seconds=0.0)
    assert tally.clean, tally.problems
    assert (tally.final, tally.effects) == (1, 0)
