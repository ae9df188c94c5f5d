"""The access-log projection on both ledger stores (SQLite file and PostgreSQL)."""

import pytest

from schemas.procedures import catalog
from services.case_ledger.access_log import citizen_access_log
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from tests.factories import TRANSFER, run_case, submit_command

pytestmark = pytest.mark.integration


def test_the_projection_follows_the_ledger_and_forgets_an_erased_citizen(
    store: LedgerStore,
) -> None:
    ledger = CaseLedger(catalog(), store.environment())
    try:
        case_id = run_case(
            ledger, submit_command("40000001", procedure="transferencia-vehicular", inputs=TRANSFER)
        )
        seller = citizen_access_log(ledger, "40000007")
        assert {e.case_id for e in seller.entries} == {case_id}
        assert len(seller.entries) == 2
        assert ledger.access.catch_up() == 0
        ledger.erase_citizen("40000007")
        assert citizen_access_log(ledger, "40000007").entries == []
        assert len(citizen_access_log(ledger, "40000001").entries) == 2
    finally:
        ledger.close()
