"""Processes opening a new PostgreSQL ledger store at the same moment, as `ventanilla up` starts
the ledger and the metrics exporter side by side on a new database: every one of them opens it."""

import threading

import pytest

from schemas.procedures import catalog
from services.case_ledger.opening import open_case_ledger
from services.case_ledger.personal.master import load_master_key
from services.case_ledger.store import LedgerStore

pytestmark = pytest.mark.integration

OPENERS = 3


def test_openers_racing_to_create_a_new_postgresql_store_all_open_it(
    postgres_store: LedgerStore,
) -> None:
    assert postgres_store.master_key is not None
    load_master_key(postgres_store.master_key)  # one key file, as the data dir has
    start = threading.Barrier(OPENERS)
    failures: list[str] = []
    opened: list[int] = []

    def open_it() -> None:
        start.wait()
        try:
            ledger = open_case_ledger(catalog(), postgres_store.environment())
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            return
        try:
            opened.append(len(ledger.notifications_after(0, 10)))
        finally:
            ledger.close()

    openers = [threading.Thread(target=open_it) for _ in range(OPENERS)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join(60)
    assert failures == []
    assert opened == [0] * OPENERS  # each one reads the same, empty, store
