"""`ventanilla case ...` against a real SQLite ledger in a data dir; no network."""

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from schemas.event_types import EventType
from services.case_ledger.application import CaseLedger
from services.cli.main import app
from services.datadir import DataDir
from tests.factories import RECEIPT, answer, data_dir_ledger, submit

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def ledger(data_dir: Path) -> Iterator[CaseLedger]:
    ledger = data_dir_ledger(data_dir)
    yield ledger
    ledger.close()


@pytest.fixture
def paid_case(ledger: CaseLedger) -> UUID:
    """Fee paid at Banco de la Nación; the request to RENIEC is on its way."""
    case_id = submit(ledger, "40000001")
    answer(
        ledger,
        case_id,
        "pago-tasa",
        outcome="completed",
        data=RECEIPT,
    )
    return case_id


def test_show_prints_the_status_and_every_step(data_dir: Path, paid_case: UUID) -> None:
    result = runner.invoke(app, ["case", "show", str(paid_case), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert str(paid_case) in result.output
    assert "in_progress" in result.output
    lines = result.output.splitlines()
    pago = next(line for line in lines if "pago-tasa" in line and "banco-nacion" in line)
    assert "completed" in pago
    dup = next(line for line in lines if "duplicado-dni" in line and "reniec" in line)
    assert "dispatched" in dup


def test_show_a_rejected_case_gives_the_reason(data_dir: Path, ledger: CaseLedger) -> None:
    case_id = submit(ledger, "40000002")
    answer(ledger, case_id, "pago-tasa", outcome="completed", data=RECEIPT)
    answer(ledger, case_id, "duplicado-dni", outcome="rejected", reason="DNI not on the register")
    refund = {
        "refund_number": "BN-DEV-2",
        "amount_pen": "23.40",
        "refunded_at": "2026-11-30T10:00:00Z",
    }
    answer(ledger, case_id, "pago-tasa/compensation", outcome="completed", data=refund)
    result = runner.invoke(
        app, ["case", "show", str(case_id), "--data-dir", str(data_dir), "--wait"]
    )
    assert result.exit_code == 0, result.output
    assert "rejected" in result.output
    assert "DNI not on the register" in result.output


def test_history_shows_the_data_shared_between_entities(data_dir: Path, paid_case: UUID) -> None:
    result = runner.invoke(app, ["case", "history", str(paid_case), "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    for event in (
        EventType.CASE_SUBMITTED,
        EventType.STEP_DISPATCHED,
        EventType.STEP_COMPLETED,
        EventType.DATA_SHARED,
    ):
        assert event in flat
    assert "banco-nacion (pago-tasa) → reniec (duplicado-dni)" in flat
    assert "receipt_number" in flat
    assert "DL 1211" in flat
    assert "40000001" not in result.output, "the citizen's DNI is personal data"


def test_an_unknown_case_is_a_message_not_a_traceback(data_dir: Path, paid_case: UUID) -> None:
    for command in ("show", "history"):
        result = runner.invoke(app, ["case", command, str(uuid4()), "--data-dir", str(data_dir)])
        assert result.exit_code == 1
        assert "no case" in result.output
        assert "Traceback" not in result.output


def test_a_malformed_case_id_is_a_message(data_dir: Path, paid_case: UUID) -> None:
    result = runner.invoke(app, ["case", "show", "not-a-uuid", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert "is not a case id" in result.output


def test_a_data_dir_without_a_ledger_is_not_created(tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    result = runner.invoke(app, ["case", "show", str(uuid4()), "--data-dir", str(empty)])
    assert result.exit_code == 1
    assert "no ledger" in result.output
    assert not DataDir(empty).ledger_sqlite.exists()
