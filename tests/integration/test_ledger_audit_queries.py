"""The ledger's answers to the auditor's pages: a recorded case view, the verification naming
damage, and the bundle export recorded as a read. Real SQLite ledger, no network."""

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from schemas.procedures import catalog
from schemas.queries import BundleQuery, ReadContext, ReadNotice, VerifyQuery
from services.case_ledger.access_log import citizen_access_log
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.queries import LedgerQueries
from services.case_ledger.store import LedgerStore
from services.case_ledger.writer import LedgerThread
from tests.factories import TRANSFER, run_case, submit_command
from tests.integration.raw_events import RawEvents

pytestmark = pytest.mark.integration
BUYER, SELLER = "40000001", "40000007"


def auditor(purpose: str, *, refused: bool = False) -> ReadContext:
    return ReadContext(
        reader_kind="auditor", reader_id="ana", purpose=purpose, service="console", refused=refused
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[CaseLedger, LedgerStore]]:
    store = LedgerStore.sqlite(tmp_path / "ledger.sqlite")
    ledger = CaseLedger(catalog(), store.environment())
    yield ledger, store
    ledger.close()


async def test_views_exports_and_verification_as_the_pages_ask_them(
    ledger: tuple[CaseLedger, LedgerStore], tmp_path: Path
) -> None:
    app, store = ledger
    command = submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER)
    case_id: UUID = run_case(app, command)
    assert app.case_view(case_id).status == "completed"
    reader = LedgerThread("test-reader")
    audit = LedgerAudit(app.recorder, AuditFiles(tmp_path / "key.pem", tmp_path / "cp.jsonl"))
    queries = LedgerQueries(app, reader, audit)
    try:
        clerk = ReadContext(
            reader_kind="clerk", reader_id="rosa", purpose="Atención", service="console"
        )
        recorded = await queries.record_read(ReadNotice(case_id=case_id, read=clerk))
        assert recorded.citizens == 2  # buyer and seller
        secret = auditor("Investigación 2026-9").model_copy(update={"restricted": True})
        await queries.record_read(ReadNotice(case_id=case_id, read=secret))

        exported = await queries.bundle(BundleQuery(case_id=case_id, read=auditor("Reclamo 117")))
        assert exported.bundle is not None
        assert exported.bundle["case_head"]["final"] is True
        refused = await queries.bundle(
            BundleQuery(case_id=case_id, read=auditor("Sin permiso", refused=True))
        )
        assert refused.bundle is None
        missing = await queries.bundle(BundleQuery(case_id=uuid4(), read=auditor("Otro")))
        assert not missing.found

        for dni in (BUYER, SELLER):
            reads = citizen_access_log(app, dni).reads
            seen = [(r.action, r.reader, r.purpose, r.refused) for r in reads]
            assert ("case-view", "clerk:rosa", "Atención", False) in seen
            assert ("bundle-export", "auditor:ana", "Reclamo 117", False) in seen
            assert ("bundle-export", "auditor:ana", "Sin permiso", True) in seen
            restricted = [r.purpose for r in reads if r.restricted]
            assert restricted == ["Investigación 2026-9"]

        intact = await queries.verify(VerifyQuery())
        assert intact.finding_count == 0
        assert intact.checkpoints == 1  # the export signed one
        assert intact.events == len(app.case_history(case_id).events)

        # Someone with write access to the database changes a stored event.
        raw = RawEvents(store)
        damaged_row = bytearray(raw.rows(case_id)[2].state)
        damaged_row[-5] ^= 0x01
        raw.set_state(case_id, 3, bytes(damaged_row))
        damaged = await queries.verify(VerifyQuery())
        assert damaged.finding_count >= 1
        first = damaged.findings[0]
        assert (first.case_id, first.version) == (str(case_id), 3)
    finally:
        reader.close()
