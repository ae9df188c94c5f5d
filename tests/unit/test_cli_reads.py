"""Reads through the CLI are recorded and shown in the citizen's access log (consultado por).

Real SQLite ledger in a data dir, no network."""

import getpass
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from schemas.procedures import catalog
from services.case_ledger.access_log import CASE_VIEW, citizen_access_log, record_case_read
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from services.cli.main import app
from services.cli.reads import cli_read
from services.datadir import DataDir
from tests.factories import TRANSFER, run_case, submit_command

runner = CliRunner(env={"COLUMNS": "250"})
BUYER, SELLER = "40000001", "40000007"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def ledger(data_dir: Path) -> Iterator[CaseLedger]:
    ledger = CaseLedger(
        catalog(), LedgerStore.sqlite(DataDir(data_dir).ledger_sqlite).environment()
    )
    yield ledger
    ledger.close()


@pytest.fixture
def transfer(ledger: CaseLedger) -> UUID:
    command = submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER)
    return run_case(ledger, command)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_replay_and_an_export_need_a_purpose_and_show_in_both_citizens_logs(
    data_dir: Path, ledger: CaseLedger, transfer: UUID, tmp_path: Path
) -> None:
    where = ("--data-dir", str(data_dir))
    code, out = run("audit", "replay", str(transfer), *where)
    assert code == 2
    assert "--purpose" in out
    code, out = run("audit", "replay", str(transfer), "--purpose", "Reclamo 117", *where)
    assert code == 0, out
    bundle = str(tmp_path / "b.json")
    code, out = run(
        "audit", "export", str(transfer), "-o", bundle, "--purpose", "Contraloría", *where
    )
    assert code == 0, out

    code, out = run("case", "history", str(transfer), *where)  # a clerk's read: no purpose asked
    assert code == 0, out

    seller = citizen_access_log(ledger, SELLER)
    who = f"cli:{getpass.getuser()}"
    assert [(r.action, r.reader, r.purpose, r.role) for r in seller.reads] == [
        ("case-replay", who, "Reclamo 117", "seller_dni"),
        ("bundle-export", who, "Contraloría", "seller_dni"),
        ("case-history", who, None, "seller_dni"),
    ]
    assert [r.role for r in citizen_access_log(ledger, BUYER).reads] == ["applicant"] * 3

    code, out = run("citizen", "access-log", BUYER, "--purpose", "Pedido del ciudadano", *where)
    assert code == 0, out
    assert "consultado por" in out
    assert "Reclamo 117" in out
    assert "citizen-access-log" in out
    assert BUYER not in out


def test_the_case_view_hook_records_and_erasure_forgets_the_reads(
    ledger: CaseLedger, transfer: UUID
) -> None:
    assert record_case_read(ledger, transfer, cli_read("Atención en ventanilla"), CASE_VIEW) == 2
    assert [r.action for r in citizen_access_log(ledger, SELLER).reads] == [CASE_VIEW]
    key_id = ledger.citizen_keys.key_id_of(SELLER)
    assert key_id is not None
    ledger.erase_citizen(SELLER)
    assert citizen_access_log(ledger, SELLER).reads == []
    assert ledger.reads.of(key_id) == []  # the rows are gone, not only unlinked
    assert [r.action for r in citizen_access_log(ledger, BUYER).reads] == [CASE_VIEW]
