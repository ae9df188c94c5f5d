"""The access log as a projection in the ledger's SQLite file: kept from the log, tracked, no
personal data in its rows, and erasure still works. Real SQLite ledger, no network."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.procedures import catalog
from services.case_ledger.access_log import citizen_access_log
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from tests.factories import TRANSFER, run_case, submit_command

BUYER, SELLER = "40000001", "40000007"
NAMES = ("ANA LUCÍA", "QUISPE", "PEDRO", "MENDOZA", "1990-03-14", "1969-09-17")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def ledger(path: Path) -> Iterator[CaseLedger]:
    ledger = CaseLedger(catalog(), LedgerStore.sqlite(path).environment())
    yield ledger
    ledger.close()


def test_buyer_and_seller_see_their_exchanges_and_a_query_reads_only_new_events(
    ledger: CaseLedger, path: Path
) -> None:
    transfer = run_case(
        ledger, submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER)
    )
    run_case(ledger, submit_command("40000003"))  # someone else's case

    buyer = citizen_access_log(ledger, BUYER)
    assert {(e.from_entity, e.to_entity, tuple(e.fields)) for e in buyer.entries} == {
        ("sat", "sunarp", ("certificate_number",)),
        ("banco-nacion", "sunarp", ("receipt_number",)),
    }
    assert {(e.case_id, e.role) for e in buyer.entries} == {(transfer, "applicant")}
    seller = citizen_access_log(ledger, SELLER)
    assert {e.role for e in seller.entries} == {"seller_dni"}
    assert citizen_access_log(ledger, "40000009").entries == []
    assert ledger.access.catch_up() == 0  # nothing new: the next query reads no event at all

    second = run_case(ledger, submit_command(BUYER))
    assert {e.case_id for e in citizen_access_log(ledger, BUYER).entries} == {transfer, second}

    # A second process (the CLI beside the running ledger) reads the same tables.
    other = CaseLedger(catalog(), LedgerStore.sqlite(path).environment())
    try:
        assert other.access.catch_up() == 0
        assert citizen_access_log(other, BUYER) == citizen_access_log(ledger, BUYER)
    finally:
        other.close()


def test_the_projection_holds_no_personal_data_and_erasure_empties_it(
    ledger: CaseLedger, path: Path
) -> None:
    run_case(ledger, submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER))
    assert citizen_access_log(ledger, SELLER).entries
    with sqlite3.connect(path) as db:
        rows = [
            repr(row)
            for table in ("access_case_citizens", "access_entries", "access_tracking")
            for row in db.execute(f"SELECT * FROM {table}")  # noqa: S608
        ]
    assert rows
    text = "\n".join(rows)
    for value in (BUYER, SELLER, *NAMES):
        assert value not in text

    ledger.erase_citizen(SELLER)
    assert citizen_access_log(ledger, SELLER).entries == []
    assert citizen_access_log(ledger, BUYER).entries  # the buyer's log is untouched
    with sqlite3.connect(path) as db:
        [(left,)] = db.execute("SELECT COUNT(*) FROM access_entries WHERE role = 'seller_dni'")
    assert left == 0


def test_a_catch_up_says_how_many_events_it_read_and_then_finds_none(ledger: CaseLedger) -> None:
    for _ in range(3):
        run_case(ledger, submit_command(BUYER))  # 7 events each
    assert ledger.access.catch_up(limit=1) == 21  # a step stops after its first batch of 1,000
    assert ledger.access.catch_up(limit=1) == 0
    assert len(citizen_access_log(ledger, BUYER).entries) == 3
