"""The followers of the log read what the writer just saved from memory, and get what the store
holds: the same entries in the same order, the same events; the store answers whatever memory
cannot (a restart, an entry dropped, an erasure). Real SQLite ledger, no network."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from tests.factories import TRANSFER, run_case, submit_command

BUYER, SELLER = "40000001", "40000007"


@pytest.fixture
def store(tmp_path: Path) -> LedgerStore:
    return LedgerStore.sqlite(tmp_path / "ledger.sqlite")


@pytest.fixture
def ledger(store: LedgerStore) -> Iterator[CaseLedger]:
    ledger = CaseLedger(catalog(), store.environment(), cached_cases=100)
    yield ledger
    ledger.close()


@pytest.fixture
def restarted(store: LedgerStore) -> Iterator[CaseLedger]:
    """Another ledger on the same file: it saved nothing, so it reads everything from the store."""
    ledger = CaseLedger(catalog(), store.environment())
    yield ledger
    ledger.close()


def summary(ledger: CaseLedger, position: int, limit: int) -> list[tuple[int, str, int, str]]:
    return [
        (n.id, str(n.originator_id), n.originator_version, n.topic)
        for n in ledger.notifications_after(position, limit)
    ]


def test_what_was_just_saved_reads_as_the_store_holds_it(
    ledger: CaseLedger, restarted: CaseLedger
) -> None:
    run_case(ledger, submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER))
    run_case(ledger, submit_command("40000003"))

    stored = summary(restarted, 0, 1000)
    assert len(stored) > 10
    assert summary(ledger, 0, 1000) == stored
    assert summary(ledger, 5, 3) == stored[5:8]
    assert summary(ledger, stored[-1][0], 1000) == []
    for notification in restarted.notifications_after(0, 1000):
        assert ledger.recorded_event(notification) == restarted.recorded_event(notification)


def test_what_memory_no_longer_holds_comes_from_the_store(
    ledger: CaseLedger, restarted: CaseLedger
) -> None:
    ledger.recent.kept = 4  # only the last four entries stay in memory
    run_case(ledger, submit_command(BUYER))

    stored = summary(restarted, 0, 1000)
    assert summary(ledger, 0, 1000) == stored
    assert summary(ledger, len(stored) - 4, 1000) == stored[-4:]


def test_after_an_erasure_the_events_read_as_the_store_holds_them(
    ledger: CaseLedger, restarted: CaseLedger
) -> None:
    run_case(ledger, submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER))
    submitted = ledger.notifications_after(0, 1)[0]
    assert ledger.recorded_event(submitted).inputs["seller_dni"] == SELLER

    ledger.erase_citizen(SELLER)

    assert ledger.recorded_event(submitted).inputs["seller_dni"] != SELLER
    assert ledger.recorded_event(submitted) == restarted.recorded_event(submitted)
