"""Tampering with a real ledger database (SQLite file and PostgreSQL), caught by `audit verify`.

Each test records two interleaved cases, damages the stored events the way someone with write
access to the database could, and checks that verification names the damaged event.
"""

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import Tracking

from schemas.event_types import EventType
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.checkpoints import CheckpointLog
from services.case_ledger.audit.eventhash import seal, unseal
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.audit.signed import Checkpoint, key_id
from services.case_ledger.audit.verify import Report
from services.case_ledger.store import LedgerStore
from tests.factories import CARD, RECEIPT, step_result, submit_command
from tests.integration.raw_events import RawEvents

pytestmark = pytest.mark.integration


class Ledger:
    def __init__(self, store: LedgerStore, tmp_path: Path) -> None:
        self.app = CaseLedger(catalog(), store.environment())
        files = AuditFiles(tmp_path / "audit-key.pem", tmp_path / "checkpoints.jsonl")
        self.audit = LedgerAudit(self.app.recorder, files)
        self.raw = RawEvents(store)

    def verify(self) -> Report:
        return self.audit.verify()

    def first(self) -> str:
        report = self.verify()
        assert not report.intact, "the damage went unnoticed"
        return str(report.findings[0])


def attempt(app: CaseLedger, case_id: UUID, step_id: str) -> UUID:
    [event] = [
        e
        for e in app.case_history(case_id).events
        if e.type == EventType.STEP_DISPATCHED and e.data["step_id"] == step_id
    ]
    return UUID(str(event.data["attempt_id"]))


@pytest.fixture
def ledger(store: LedgerStore, tmp_path: Path) -> Iterator[Ledger]:
    """Cases A and B, seven events each, recorded interleaved (A at 1-2, B at 3-4, ...)."""
    ledger = Ledger(store, tmp_path)
    app, cases = ledger.app, []
    for n, dni in enumerate(("40000001", "40000006"), start=1):
        command = submit_command(dni)
        app.submit_case(command, Tracking("commands", n))
        cases.append(command.envelope.case_id)
    results = 0
    for step, entity, data in (
        ("pago-tasa", "banco-nacion", RECEIPT),
        ("duplicado-dni", "reniec", CARD),
    ):
        for case_id in cases:
            results += 1
            answer = step_result(
                case_id, step, attempt(app, case_id, step), entity, step, data=data
            )
            app.record_step_result(answer, Tracking("results", results))
    ledger.cases = cases  # type: ignore[attr-defined]
    yield ledger
    app.close()


def case_a(ledger: Ledger) -> UUID:
    return ledger.cases[0]  # type: ignore[attr-defined,no-any-return]


def test_an_untouched_ledger_verifies(ledger: Ledger) -> None:
    report = ledger.verify()
    assert report.intact, report.findings
    assert (report.events, report.cases) == (14, 2)
    rows = ledger.raw.rows(case_a(ledger))
    assert [r.version for r in rows] == list(range(1, 8))
    assert all(r.state.startswith(b"VCH1") for r in rows)


def test_an_altered_byte_is_named(ledger: Ledger) -> None:
    a = case_a(ledger)
    row = ledger.raw.rows(a)[2]
    damaged = bytearray(row.state)
    damaged[-5] ^= 0x01
    ledger.raw.set_state(a, 3, bytes(damaged))

    assert ledger.first() == (
        f"case {a}, event 3, position {row.position}: "
        "what is stored does not match its hash: the event was altered"
    )


def test_a_deleted_event_in_the_middle_is_named(ledger: Ledger) -> None:
    a = case_a(ledger)
    fourth = ledger.raw.rows(a)[3]
    ledger.raw.delete(a, 3)

    assert ledger.first() == (
        f"case {a}, event 4, position {fourth.position}: "
        "event 3 missing: this event follows event 2 in the store"
    )


def test_two_swapped_events_are_named(ledger: Ledger) -> None:
    a = case_a(ledger)
    rows = ledger.raw.rows(a)
    ledger.raw.set_row(a, 3, rows[3].topic, rows[3].state)
    ledger.raw.set_row(a, 4, rows[2].topic, rows[2].state)

    first = ledger.first()
    assert first.startswith(f"case {a}, event 3, position {rows[2].position}: ")
    assert "holds the content of event 4" in first


def test_an_inserted_event_is_named(ledger: Ledger) -> None:
    a = case_a(ledger)
    rows = ledger.raw.rows(a)
    # A careful forger: a correctly sealed event linked to event 2, the later ones moved up.
    forged = seal(str(a), 3, rows[2].topic, unseal(rows[1].state).event_hash, b'{"forged":1}')
    ledger.raw.shift_up(a, 3)
    ledger.raw.insert(a, 3, rows[2].topic, forged)

    findings = [str(f) for f in ledger.verify().findings]
    assert findings[0].startswith(f"case {a}, event 4, position {rows[2].position}: ")
    assert any("event 3 was inserted before it" in f for f in findings)
    assert any(
        f"case {a}, event 3, position" in f and "inserted or moved later" in f for f in findings
    )


def test_a_truncated_tail_after_a_checkpoint_is_named(ledger: Ledger) -> None:
    checkpoint = ledger.audit.checkpoint()
    assert checkpoint is not None
    assert checkpoint.head is not None
    assert ledger.verify().intact
    head = checkpoint.head
    ledger.raw.delete_after(head.position - 2)

    assert ledger.first() == (
        f"case {head.case_id}, event {head.version}, position {head.position}: missing, though "
        f"checkpoint 1 (position {head.position}, signed {checkpoint.signed_at}) covers it: "
        f"the ledger was cut after position {head.position - 2}"
    )


def test_a_forged_checkpoint_is_named(ledger: Ledger) -> None:
    checkpoint = ledger.audit.checkpoint()
    assert checkpoint is not None
    log = CheckpointLog(ledger.audit.files.checkpoints)
    forged = Checkpoint.from_json({**checkpoint.to_json(), "root": "00" * 32})
    log.path.write_text("")
    log.append(forged)

    assert "signature does not verify with the ledger's key (forged or altered)" in ledger.first()


def test_a_rewritten_history_re_signed_with_another_key_is_named(ledger: Ledger) -> None:
    real = ledger.audit.checkpoint()
    assert real is not None
    a = case_a(ledger)
    rows = ledger.raw.rows(a)
    # Rewrite event 3 and re-seal every later event of the case: the chains alone hold.
    prev = unseal(rows[1].state).event_hash
    for row in rows[2:]:
        payload = unseal(row.state).payload.replace(b"BN-0001", b"BN-0666")
        state = seal(str(a), row.version, row.topic, prev, payload)
        ledger.raw.set_state(a, row.version, state)
        prev = unseal(state).event_hash
    assert not ledger.verify().intact  # the signed checkpoint still convicts the rewrite
    forger = Ed25519PrivateKey.generate()
    resigned = Checkpoint.from_json({**real.to_json(), "key_id": key_id(forger.public_key())})
    CheckpointLog(ledger.audit.files.checkpoints).path.write_text("")
    CheckpointLog(ledger.audit.files.checkpoints).append(resigned.signed(forger))

    assert f"signed with key {key_id(forger.public_key())}, not the ledger's key" in ledger.first()
