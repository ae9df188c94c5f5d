"""Checkpoint keys: the fingerprint beside the key, rotation, and the published key list.

Real SQLite ledger and key files in a data dir; the gateway on its fake case bus; no network.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.bundle_check import verify_bundle
from services.case_ledger.audit.checkpoints import CheckpointLog
from services.case_ledger.audit.keys import parse_trusted_keys
from services.case_ledger.store import LedgerStore
from services.cli.main import app
from services.datadir import DataDir
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from tests.factories import submit_command
from tests.fakes import TOKENS, FakeCaseBus, write_tokens

runner = CliRunner(env={"COLUMNS": "250"})


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


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def submitted(ledger: CaseLedger, dni: str) -> UUID:
    command = submit_command(dni)
    ledger.submit_case(command)
    return command.envelope.case_id


def test_public_key_prints_the_fingerprint_and_both_lines_are_checked(
    data_dir: Path, tmp_path: Path
) -> None:
    code, card = run("audit", "public-key", "--data-dir", str(data_dir))
    assert code == 0, card
    key_line, fingerprint_line = card.strip().splitlines()
    assert key_line.startswith("ed25519:")
    words = fingerprint_line.split()
    assert words[0] == "fingerprint"
    assert words[1].startswith("SHA256:")
    assert len(words[1]) == 71
    assert words[2] == "key-id"
    assert words[3] == words[1][7:23]
    assert len(parse_trusted_keys([card])) == 1

    _, stranger = run("audit", "public-key", "--data-dir", str(tmp_path / "other"))
    mixed = key_line + "\n" + stranger.strip().splitlines()[1]
    with pytest.raises(ValueError, match="fingerprint given beside the key is not that key's"):
        parse_trusted_keys([mixed])


def test_after_a_rotation_old_and_new_evidence_verify_and_each_names_its_key(
    data_dir: Path, ledger: CaseLedger, tmp_path: Path
) -> None:
    where = ("--data-dir", str(data_dir))
    folder = DataDir(data_dir)
    first = submitted(ledger, "40000001")
    old_bundle = tmp_path / "old.bundle.json"
    code, out = run("audit", "export", str(first), "-o", str(old_bundle), "--purpose", "x", *where)
    assert code == 0, out
    _, old_card = run("audit", "public-key", *where)
    old_pem = folder.audit_signing_key.read_bytes()

    code, out = run("audit", "rotate-signing-key", *where)
    assert code == 0, out
    assert "retired key" in out
    assert "new key" in out
    assert folder.audit_signing_key.read_bytes() != old_pem  # the old private key is gone
    assert folder.audit_signing_key.stat().st_mode & 0o777 == 0o600
    _, new_card = run("audit", "public-key", *where)
    assert new_card != old_card

    second = submitted(ledger, "40000004")
    new_bundle = tmp_path / "new.bundle.json"
    code, out = run("audit", "export", str(second), "-o", str(new_bundle), "--purpose", "x", *where)
    assert code == 0, out
    checkpoints = CheckpointLog(folder.audit_checkpoints).read()
    old_id = old_card.split()[-1]
    new_id = new_card.split()[-1]
    assert [c.key_id for c in checkpoints] == [old_id, new_id]

    code, out = run("audit", "verify", *where)  # every listed key, current and retired
    assert code == 0, out
    assert "2 signed checkpoints" in out
    code, out = run("audit", "keys", *where)
    assert code == 0, out
    assert f"{old_id}" in out
    assert "retired" in out
    assert f"{new_id}" in out
    assert "current" in out

    key_list = str(folder.audit_key_list)
    for bundle in (old_bundle, new_bundle):
        code, out = run("audit", "verify-bundle", str(bundle), "--public-key", key_list)
        assert code == 0, out
    code, out = run("audit", "verify-bundle", str(old_bundle), "--public-key", old_card)
    assert code == 0, out  # the key pinned before the rotation still checks old evidence
    code, out = run("audit", "verify-bundle", str(new_bundle), "--public-key", old_card)
    assert code == 1
    assert "FAIL untrusted" in out
    report = verify_bundle(new_bundle.read_bytes(), parse_trusted_keys([key_list]))
    assert report.intact
    assert report.checkpoint is not None
    assert report.checkpoint.key_id == new_id


def test_the_gateway_publishes_current_and_retired_keys_at_a_well_known_path(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = DataDir(data_dir)
    tokens = tmp_path / "tokens.json"
    write_tokens(tokens, TOKENS)
    client = TestClient(
        create_app(FakeCaseBus(), TokenBook(tokens), checkpoint_keys=folder.audit_key_list)
    )
    path = "/.well-known/ventanilla/checkpoint-keys.json"
    empty = client.get(path)
    assert empty.status_code == 200
    assert empty.json() == {"format": "ventanilla-checkpoint-keys/1", "keys": []}

    run("audit", "public-key", "--data-dir", str(data_dir))
    run("audit", "rotate-signing-key", "--data-dir", str(data_dir))
    published = client.get(path)  # no token: the keys are public
    assert published.status_code == 200
    keys = published.json()["keys"]
    assert [k["retired_at"] is None for k in keys] == [False, True]
    saved = tmp_path / "checkpoint-keys.json"
    saved.write_text(json.dumps(published.json()))
    assert set(parse_trusted_keys([str(saved)])) == {k["key_id"] for k in keys}
