"""`ventanilla citizen erase` on a real SQLite ledger in a data dir; no network."""

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from services.cli.main import app
from tests.factories import data_dir_ledger, submit_command

runner = CliRunner(env={"COLUMNS": "250"})
BUYER, SELLER = "40000001", "40000007"


@pytest.fixture
def transfer(data_dir: Path) -> Iterator[UUID]:
    ledger = data_dir_ledger(data_dir)
    inputs = {"plate": "ABC-123", "seller_dni": SELLER, "price_pen": 25000}
    command = submit_command(BUYER, procedure="transferencia-vehicular", inputs=inputs)
    ledger.submit_case(command)
    yield command.envelope.case_id
    ledger.close()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_erase_hides_the_citizen_in_histories_and_verify_still_passes(
    data_dir: Path, transfer: UUID
) -> None:
    where = ("--data-dir", str(data_dir))
    code, before = run("case", "history", str(transfer), *where)
    assert code == 0, before
    assert f"seller_dni={SELLER}" in before

    code, out = run("citizen", "erase", SELLER, *where)
    assert code == 0, out
    assert "erased data key" in out
    assert "personal data as [erased]" in out  # rich markup did not eat the brackets
    # The inputs, RENIEC's check of the seller and SUNARP's of the owner.
    assert "3 stored events in 1 cases" in out
    assert SELLER not in out

    code, after = run("case", "history", str(transfer), *where)
    assert code == 0, after
    assert "seller_dni=[erased]" in after
    assert SELLER not in after
    code, replayed = run("audit", "replay", str(transfer), "--purpose", "x", *where)
    assert code == 0, replayed
    assert SELLER not in replayed
    code, verified = run("audit", "verify", *where)
    assert code == 0, verified
    assert "intact" in verified

    code, again = run("citizen", "erase", SELLER, *where)
    assert code == 0, again
    assert "nothing to erase" in again


def test_erase_refuses_what_is_not_a_dni_and_a_wrong_master_key(
    data_dir: Path, transfer: UUID, tmp_path: Path
) -> None:
    code, out = run("citizen", "erase", "4000", "--data-dir", str(data_dir))
    assert code == 1
    assert "not a DNI" in out

    elsewhere = tmp_path / "missing.key"
    code, out = run(
        "citizen", "erase", SELLER, "--data-dir", str(data_dir), "--master-key", str(elsewhere)
    )
    assert code == 1
    assert "no personal data master key" in out
    assert not elsewhere.exists()


def test_erase_help_says_what_erased_values_read() -> None:
    code, out = run("citizen", "erase", "--help")
    assert code == 0, out
    assert "their personal data in the ledger reads `[erased]`" in out
