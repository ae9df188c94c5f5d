"""`ventanilla citizen rotate-master-key` on a real SQLite ledger: data keys re-wrapped, the old
master key retired, erasure and verification unchanged. No network."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.personal.master import load_master_key
from services.case_ledger.personal.rotation import pending_path
from services.case_ledger.store import LedgerStore
from services.cli.main import app
from services.datadir import DataDir
from tests.factories import TRANSFER, submit_command

runner = CliRunner(env={"COLUMNS": "250"})
BUYER, SELLER, OTHER = "40000001", "40000007", "40000004"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def cases(data_dir: Path) -> Iterator[tuple[UUID, UUID]]:
    ledger = CaseLedger(
        catalog(), LedgerStore.sqlite(DataDir(data_dir).ledger_sqlite).environment()
    )
    transfer = submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER)
    other = submit_command(OTHER)
    ledger.submit_case(transfer)
    ledger.submit_case(other)
    yield transfer.envelope.case_id, other.envelope.case_id
    ledger.close()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def wrapped_keys(data_dir: Path) -> dict[str, tuple[bytes | None, str]]:
    with sqlite3.connect(DataDir(data_dir).ledger_sqlite) as db:
        rows = db.execute("SELECT key_id, wrapped_key, master_key_id FROM citizen_keys")
        return {key_id: (wrapped, master) for key_id, wrapped, master in rows}


def test_rotation_rewraps_every_key_and_retires_the_old_master_key(
    data_dir: Path, cases: tuple[UUID, UUID], tmp_path: Path
) -> None:
    where = ("--data-dir", str(data_dir))
    transfer, _ = cases
    key_file = DataDir(data_dir).master_key
    old_text = key_file.read_text()
    old_id = load_master_key(key_file, create=False).key_id
    code, out = run("citizen", "erase", OTHER, *where)
    assert code == 0, out
    before = wrapped_keys(data_dir)

    code, out = run("citizen", "rotate-master-key", *where)
    assert code == 0, out
    new_id = load_master_key(key_file, create=False).key_id
    assert f"master key {old_id} retired, {new_id} now wraps 2 data keys" in out
    assert "(1 erased citizens' rows hold none)" in out
    assert old_text not in key_file.read_text()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert not pending_path(key_file).exists()
    after = wrapped_keys(data_dir)
    assert set(after) == set(before)
    assert {master for _, master in after.values()} == {new_id}
    assert all(after[k][0] != before[k][0] for k in after if before[k][0] is not None)

    code, history = run("case", "history", str(transfer), *where)
    assert code == 0, history
    assert f"seller_dni={SELLER}" in history  # still opens, with the new key
    code, out = run("citizen", "erase", SELLER, *where)  # pseudonyms survive the rotation
    assert code == 0, out
    assert "erased data key" in out
    code, history = run("case", "history", str(transfer), *where)
    assert "seller_dni=[erased]" in history
    code, out = run("citizen", "erase", OTHER, *where)
    assert "nothing to erase" in out
    code, out = run("audit", "verify", *where)
    assert code == 0, out
    assert "intact" in out

    retired = tmp_path / "retired.key"
    retired.write_text(old_text)
    code, out = run(
        "citizen", "access-log", BUYER, "--purpose", "x", *where, "--master-key", str(retired)
    )
    assert code == 1
    assert f"wrapped by master key {new_id}" in out


def test_a_rotation_cut_short_after_the_rewrap_is_finished_on_the_next_open(
    data_dir: Path, cases: tuple[UUID, UUID]
) -> None:
    transfer, _ = cases
    key_file = DataDir(data_dir).master_key
    store = LedgerStore.sqlite(DataDir(data_dir).ledger_sqlite)
    ledger = CaseLedger(catalog(), store.environment())
    keys = ledger.citizen_keys
    successor = keys.master.successor()
    pending_path(key_file).write_text(successor.text() + "\n")
    from services.case_ledger.personal.keystore import KeyRow

    keys.store.rewrap(
        [
            KeyRow(
                r.key_id,
                successor.wrap(r.key_id, keys.master.unwrap(r.key_id, r.wrapped)),
                successor.key_id,
            )
            for r in keys.store.rows()
            if r.wrapped is not None
        ]
    )  # the transaction committed; the process died before the key file was replaced
    ledger.close()

    code, history = run("case", "history", str(transfer), "--data-dir", str(data_dir))
    assert code == 0, history
    assert f"seller_dni={SELLER}" in history
    assert load_master_key(key_file, create=False).key_id == successor.key_id
