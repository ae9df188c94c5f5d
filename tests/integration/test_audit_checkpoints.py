"""The ledger process signs checkpoints by itself, on real SQLite and PostgreSQL."""

import asyncio
from pathlib import Path

import pytest

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.checkpoints import CheckpointLog
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.audit.periodic import CheckpointWatch
from services.case_ledger.store import LedgerStore
from services.case_ledger.writer import LedgerThread
from tests.factories import submit_command

pytestmark = pytest.mark.integration


async def test_checkpoints_follow_the_ledger_and_verify(store: LedgerStore, tmp_path: Path) -> None:
    ledger = CaseLedger(catalog(), store.environment())
    files = AuditFiles(tmp_path / "key.pem", tmp_path / "checkpoints.jsonl")
    audit = LedgerAudit(ledger.recorder, files)
    reader, stop = LedgerThread("test-reader"), asyncio.Event()
    watch = asyncio.create_task(CheckpointWatch(audit, reader, interval=0.05).run(stop))
    log = CheckpointLog(files.checkpoints)
    try:
        ledger.submit_case(submit_command("40000001"))
        async with asyncio.timeout(10):
            while not log.read():
                await asyncio.sleep(0.02)
        ledger.submit_case(submit_command("40000007"))
        async with asyncio.timeout(10):
            while log.latest().position < 4:  # type: ignore[union-attr]
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # idle ticks sign nothing new
    finally:
        stop.set()
        await watch
        reader.close()
    checkpoints = log.read()
    assert [(c.position, c.tree_size) for c in checkpoints] == [(2, 2), (4, 4)]
    report = audit.verify()
    assert report.intact, report.findings
    assert report.checkpoints == 2
    ledger.close()
