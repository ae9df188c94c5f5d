"""A bundle proves it holds the whole case: its signed case head names the case's last event.

The auditor's finding: a rejected transferencia-vehicular cut from 18 events to 14 (losing the
refund and `CaseRejected`) verified as "14 events". Real SQLite ledger, no network.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.bundle_check import INCOMPLETE, verify_bundle
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.store import LedgerStore
from services.cli.main import app
from services.datadir import DataDir
from tests.factories import TRANSFER, run_case, submit_command

runner = CliRunner(env={"COLUMNS": "200"})
REFUSED_BUYER = "40000005"  # SUNARP refuses the registration after the fee was paid


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[CaseLedger]:
    folder = DataDir(tmp_path / "var")
    ledger = CaseLedger(catalog(), LedgerStore.sqlite(folder.ledger_sqlite).environment())
    yield ledger
    ledger.close()


def audit_of(ledger: CaseLedger, tmp_path: Path) -> LedgerAudit:
    folder = DataDir(tmp_path / "var")
    return LedgerAudit(
        ledger.recorder, AuditFiles(folder.audit_signing_key, folder.audit_checkpoints)
    )


def rejected_transfer(ledger: CaseLedger) -> UUID:
    command = submit_command(REFUSED_BUYER, procedure="transferencia-vehicular", inputs=TRANSFER)
    return run_case(ledger, command)


def test_a_rejected_transfer_cut_to_fewer_events_is_incomplete(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    case_id = rejected_transfer(ledger)
    audit = audit_of(ledger, tmp_path)
    bundle = audit.export(str(case_id))
    assert len(bundle["events"]) == 18
    key = audit.public_key()
    whole = verify_bundle(json.dumps(bundle).encode(), key)
    assert whole.intact, whole.problems
    assert whole.final

    cut = {**bundle, "events": bundle["events"][:14]}  # CaseRejected and the refund dropped
    report = verify_bundle(json.dumps(cut).encode(), key)
    assert not report.intact
    assert report.verdict == INCOMPLETE
    assert "4 events missing after event 14" in str(report.problems[0])
    assert "last event was 18" in str(report.problems[0])


def test_a_case_in_progress_is_labelled_with_its_head(ledger: CaseLedger, tmp_path: Path) -> None:
    command = submit_command("40000001", procedure="transferencia-vehicular", inputs=TRANSFER)
    ledger.submit_case(command)  # no entity has answered yet
    audit = audit_of(ledger, tmp_path)
    bundle = audit.export(str(command.envelope.case_id))
    assert bundle["case_head"]["final"] is False
    assert bundle["case_head"]["version"] == len(bundle["events"]) == 5
    report = verify_bundle(json.dumps(bundle).encode(), audit.public_key())
    assert report.intact, report.problems
    assert not report.final


def test_verify_bundle_prints_whether_the_case_was_final(
    ledger: CaseLedger, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    case_id = rejected_transfer(ledger)
    running = submit_command("40000001", procedure="transferencia-vehicular", inputs=TRANSFER)
    ledger.submit_case(running)
    public = runner.invoke(app, ["audit", "public-key", "--data-dir", str(data_dir)]).output
    for case, expected in (
        (case_id, "the whole case: final at export, its last event 18"),
        (running.envelope.case_id, "still in progress at export, its events up to 5"),
    ):
        out = tmp_path / f"{case}.bundle.json"
        result = runner.invoke(
            app,
            [
                "audit",
                "export",
                str(case),
                "-o",
                str(out),
                "--purpose",
                "x",
                "--data-dir",
                str(data_dir),
            ],
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["audit", "verify-bundle", str(out), "--public-key", public])
        assert result.exit_code == 0, result.output
        assert expected in result.output

    cut = json.loads((tmp_path / f"{case_id}.bundle.json").read_text())
    cut["events"] = cut["events"][:14]
    (tmp_path / "cut.json").write_text(json.dumps(cut))
    result = runner.invoke(
        app, ["audit", "verify-bundle", str(tmp_path / "cut.json"), "--public-key", public]
    )
    assert result.exit_code == 1
    assert "FAIL incomplete" in result.output
    assert "verified" not in result.output
