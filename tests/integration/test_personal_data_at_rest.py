"""Personal data at rest: encrypted per citizen in the stored events, erasable, still verifiable.

On a real SQLite file and a real PostgreSQL database. What is stored is read with SQL, as anyone
holding a copy of the database would read it.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Tracking

from schemas.event_types import EventType
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.domain import ERASED, ERASED_REASON
from services.case_ledger.personal.master import BadMasterKey, MasterKey
from services.case_ledger.store import LedgerStore
from services.entity_adapters.backoffices.demo import RENIEC_REGISTRY
from tests.factories import (
    BUYER,
    RECEIPT,
    SELLER,
    TRANSFER,
    identity,
    secrets_of,
    step_result,
    submit_command,
)
from tests.integration.raw_events import RawEvents

pytestmark = pytest.mark.integration

OTHER = "40000006"


def open_ledger(store: LedgerStore) -> CaseLedger:
    return CaseLedger(catalog(), store.environment())


@pytest.fixture
def ledger(store: LedgerStore) -> Iterator[CaseLedger]:
    app = open_ledger(store)
    yield app
    app.close()


def attempt(app: CaseLedger, case_id: UUID, step_id: str) -> UUID:
    return app.repository.get(case_id).steps[step_id].attempt_id


def answer(app: CaseLedger, case_id: UUID, step: str, entity: str, service: str, data: Any) -> None:
    app.record_step_result(
        step_result(case_id, step, attempt(app, case_id, step), entity, service, data=data)
    )


def transfer_with_identities(app: CaseLedger) -> UUID:
    """A transfer whose buyer and seller RENIEC has confirmed, by name and birth date."""
    command = submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER)
    case_id = command.envelope.case_id
    app.submit_case(command, Tracking("commands", 1))
    check = "verificacion-identidad"
    answer(app, case_id, "identidad-comprador", "reniec", check, identity(BUYER))
    answer(app, case_id, "identidad-vendedor", "reniec", check, identity(SELLER))
    return case_id


def other_case(app: CaseLedger) -> UUID:
    command = submit_command(OTHER)
    app.submit_case(command, Tracking("commands", 2))
    case_id = command.envelope.case_id
    answer(app, case_id, "pago-tasa", "banco-nacion", "pago-tasa", RECEIPT)
    return case_id


def stored(store: LedgerStore, *case_ids: UUID) -> list[bytes]:
    raw = RawEvents(store)
    return [row.state for case_id in case_ids for row in raw.rows(case_id)]


def verify(app: CaseLedger, tmp_path: Path) -> list[str]:
    files = AuditFiles(tmp_path / "audit-key.pem", tmp_path / "checkpoints.jsonl")
    return [str(f) for f in LedgerAudit(app.recorder, files).verify().findings]


def test_stored_events_hold_no_dni_and_no_name_yet_histories_read_them(
    ledger: CaseLedger, store: LedgerStore
) -> None:
    case_id = transfer_with_identities(ledger)
    states = stored(store, case_id)
    assert len(states) == 7  # submitted, four requests, two identity checks
    text = b"\n".join(states).decode(errors="replace")  # the chain header is binary
    assert [s for s in secrets_of(BUYER, SELLER) if s in text] == []
    # What is not personal stays readable to anyone holding the database.
    assert "ABC-123" in text
    assert "identidad-vendedor" in text
    assert "RENIEC-07" in text

    events = {(e.type, e.data.get("step_id")): e.data for e in ledger.case_history(case_id).events}
    submitted = events[(EventType.CASE_SUBMITTED, None)]
    assert submitted["citizen"]["document_number"] == BUYER
    assert submitted["inputs"]["seller_dni"] == SELLER
    seller_check = events[(EventType.STEP_COMPLETED, "identidad-vendedor")]["result"]
    assert seller_check["given_names"] == RENIEC_REGISTRY[SELLER].given_names
    sunarp = events[(EventType.STEP_DISPATCHED, "propiedad")]["request"]
    assert sunarp["owner"]["document_number"] == SELLER


def test_erasing_a_citizen_erases_their_data_everywhere_and_nothing_else(
    ledger: CaseLedger, store: LedgerStore, tmp_path: Path
) -> None:
    transfer = transfer_with_identities(ledger)
    other = other_case(ledger)
    before = stored(store, transfer, other)
    history_before = ledger.case_history(transfer)
    other_before = ledger.case_history(other)

    eraser = open_ledger(store)  # as the CLI would, from another process
    try:
        erasure = eraser.erase_citizen(SELLER)
        assert eraser.erase_citizen(SELLER).key_id is None  # nothing left to erase
    finally:
        eraser.close()

    assert erasure.cases == 1
    assert erasure.events >= 4  # the inputs, two requests naming the seller, RENIEC's answer
    assert stored(store, transfer, other) == before  # not one stored byte changed
    assert verify(ledger, tmp_path) == []
    reader = open_ledger(store)
    try:
        after = reader.case_history(transfer)
        assert reader.case_history(other) == other_before
        assert reader.case_view(transfer).status == "in_progress"
        replay = reader.case_replay(transfer, version=5)  # the four first requests
    finally:
        reader.close()
    text = json.dumps([e.data for e in after.events], default=str, ensure_ascii=False)
    assert [s for s in secrets_of(SELLER) if s in text] == []
    assert all(s in text for s in secrets_of(BUYER))  # the buyer's own data is untouched
    events = {(e.type, e.data.get("step_id")): e.data for e in after.events}
    assert events[(EventType.CASE_SUBMITTED, None)]["inputs"] == {**TRANSFER, "seller_dni": ERASED}
    assert events[(EventType.CASE_SUBMITTED, None)]["citizen"]["document_number"] == BUYER
    assert events[(EventType.STEP_COMPLETED, "identidad-vendedor")]["result"] == {
        "verification_code": "RENIEC-07",
        "given_names": ERASED,
        "surnames": ERASED,
        "birth_date": ERASED,
    }
    assert (
        events[(EventType.STEP_DISPATCHED, "propiedad")]["request"]["owner"]["document_number"]
        == ERASED
    )
    # Everything else reads exactly as before.
    assert [(e.position, e.type, e.occurred_at) for e in after.events] == [
        (e.position, e.type, e.occurred_at) for e in history_before.events
    ]
    received = {d.step_id: d.request for d in replay.received}
    assert received["identidad-comprador"]["citizen"]["document_number"] == BUYER
    assert received["identidad-vendedor"]["citizen"]["document_number"] == ERASED
    assert received["propiedad"]["plate"] == "ABC-123"


def test_an_in_progress_case_of_an_erased_citizen_is_closed_when_it_next_moves(
    ledger: CaseLedger, store: LedgerStore, tmp_path: Path
) -> None:
    command = submit_command(BUYER)
    case_id = command.envelope.case_id
    ledger.submit_case(command)
    assert ledger.erase_citizen(BUYER).cases == 1

    # Banco de la Nación answers after the erasure: recorded, then the case closes.
    answer(ledger, case_id, "pago-tasa", "banco-nacion", "pago-tasa", RECEIPT)

    view = ledger.case_view(case_id)
    assert (view.status, view.reason) == ("rejected", ERASED_REASON)
    assert [(s.step_id, s.status) for s in view.steps] == [
        ("pago-tasa", "completed"),
        ("duplicado-dni", "pending"),
    ]
    assert verify(ledger, tmp_path) == []
    # The citizen comes back later: a new case gets a new key, the old one stays erased.
    again = submit_command(BUYER)
    ledger.submit_case(again)
    citizen = ledger.case_history(again.envelope.case_id).events[0].data["citizen"]
    assert citizen["document_number"] == BUYER
    first = ledger.case_history(case_id).events[0].data["citizen"]
    assert first["document_number"] == ERASED


def test_the_key_table_holds_no_dni_and_a_wrong_master_key_is_refused(
    ledger: CaseLedger, store: LedgerStore, tmp_path: Path
) -> None:
    transfer_with_identities(ledger)
    keys = ledger.citizen_keys.store
    master = ledger.citizen_keys.master
    row = keys.find(master.pseudonym(SELLER))
    assert row is not None
    assert row.wrapped is not None
    dump = repr(keys.get(row.key_id)) + master.pseudonym(SELLER)
    assert [s for s in secrets_of(BUYER, SELLER) if s in dump] == []

    # A ledger that holds data keys never makes itself a new master key...
    wrong = tmp_path / "another-master.key"
    with pytest.raises(BadMasterKey, match="no personal data master key"):
        CaseLedger(catalog(), LedgerStore(store.url, wrong).environment())
    assert not wrong.exists()
    # ...and refuses one that did not wrap its keys, before it reads anything.
    wrong.write_text(MasterKey.generate().text())
    with pytest.raises(BadMasterKey, match="wrapped by master key"):
        CaseLedger(catalog(), LedgerStore(store.url, wrong).environment())
