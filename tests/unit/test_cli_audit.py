"""`ventanilla audit ...` on a real SQLite ledger in a data dir; no network."""

import base64
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from schemas.event_types import EventType
from services.cli.main import app
from services.datadir import DataDir
from tests.factories import data_dir_ledger, submit_command

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def cases(data_dir: Path) -> Iterator[list[UUID]]:
    ledger = data_dir_ledger(data_dir)
    ids = []
    for dni in ("40000001", "40000004", "40000007"):
        command = submit_command(dni)
        ledger.submit_case(command)
        ids.append(command.envelope.case_id)
    yield ids
    ledger.close()


def audit(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", *args])
    return result.exit_code, result.output


def test_verify_passes_on_an_intact_ledger(data_dir: Path, cases: list[UUID]) -> None:
    code, out = audit("verify", "--data-dir", str(data_dir))
    assert code == 0, out
    assert "intact: 6 events in 3 cases, 0 signed checkpoints" in out


def test_verify_names_an_altered_event_and_from_skips_what_was_verified(
    data_dir: Path, cases: list[UUID]
) -> None:
    db = sqlite3.connect(DataDir(data_dir).ledger_sqlite)
    [(state,)] = db.execute(
        "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = 1",
        (cases[1].hex,),
    )
    altered = bytes(state).replace(b"perdida", b"robo!!!")
    db.execute(
        "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 1",
        (altered, cases[1].hex),
    )
    db.commit()
    db.close()

    code, out = audit("verify", "--data-dir", str(data_dir))
    assert code == 1
    assert f"TAMPERED case {cases[1]}, event 1, position 3: what is stored does not match" in out
    code, out = audit("verify", "--data-dir", str(data_dir), "--from", "4")
    assert code == 0, out


def test_the_signing_key_is_private_and_its_public_half_is_printed(
    data_dir: Path, cases: list[UUID]
) -> None:
    code, out = audit("checkpoint", "--data-dir", str(data_dir))
    assert code == 0, out
    assert "checkpoint at position 6: 6 events" in out
    key = DataDir(data_dir).audit_signing_key
    assert key.stat().st_mode & 0o777 == 0o600
    code, public = audit("public-key", "--data-dir", str(data_dir))
    assert code == 0
    assert public.startswith("ed25519:")
    assert len(base64.b64decode(public.strip().removeprefix("ed25519:"))) == 32


def test_an_exported_bundle_verifies_with_the_public_key_alone(
    data_dir: Path, cases: list[UUID], tmp_path: Path
) -> None:
    bundle = tmp_path / "case.bundle.json"
    code, out = audit(
        "export", str(cases[1]), "-o", str(bundle), "--purpose", "x", "--data-dir", str(data_dir)
    )
    assert code == 0, out
    _, public = audit("public-key", "--data-dir", str(data_dir))

    code, out = audit("verify-bundle", str(bundle), "--public-key", public.strip())
    assert code == 0, out
    assert f"verified: case {cases[1]}, 2 events" in out

    document = json.loads(bundle.read_text())
    state = bytearray(base64.b64decode(document["events"][1]["state"]))
    state[-3] ^= 0x20
    document["events"][1]["state"] = base64.b64encode(bytes(state)).decode()
    bundle.write_text(json.dumps(document))
    code, out = audit("verify-bundle", str(bundle), "--public-key", public.strip())
    assert code == 1
    assert f"case {cases[1]}, event 2, position 4: what is stored does not match its hash" in out


def test_a_bundle_checked_with_another_key_fails(
    data_dir: Path, cases: list[UUID], tmp_path: Path
) -> None:
    bundle = tmp_path / "case.bundle.json"
    audit("export", str(cases[0]), "-o", str(bundle), "--purpose", "x", "--data-dir", str(data_dir))
    other = tmp_path / "other"
    _, stranger = audit("public-key", "--data-dir", str(other))

    code, out = audit("verify-bundle", str(bundle), "--public-key", stranger.strip())
    assert code == 1
    assert "not the ledger's key" in out


def test_the_offline_verifier_runs_without_the_ledger_the_database_or_the_bus(
    data_dir: Path, cases: list[UUID], tmp_path: Path
) -> None:
    bundle = tmp_path / "case.bundle.json"
    audit("export", str(cases[2]), "-o", str(bundle), "--purpose", "x", "--data-dir", str(data_dir))
    _, public = audit("public-key", "--data-dir", str(data_dir))
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['bundle_check', sys.argv[1], '--public-key', sys.argv[2]]\n"
        "try:\n"
        "    runpy.run_module('services.case_ledger.audit.bundle_check', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    heavy = [m for m in sys.modules if m.split('.')[0] in\n"
        "             ('eventsourcing', 'psycopg', 'sqlite3', 'nats', 'faststream', 'httpx')]\n"
        "    print('imported:', heavy)\n"
        "    raise\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(bundle), public.strip()],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK case {cases[2]}: 2 events under a signed checkpoint" in result.stdout
    assert "imported: []" in result.stdout


def test_replay_prints_the_case_as_it_stood_at_a_version(data_dir: Path, cases: list[UUID]) -> None:
    result = runner.invoke(
        app,
        [
            "audit",
            "replay",
            str(cases[0]),
            "--version",
            "1",
            "--purpose",
            "x",
            "--data-dir",
            str(data_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "replay up to event 1" in result.output
    assert "submitted" in result.output
    assert EventType.STEP_DISPATCHED not in result.output
    assert "40000001" not in result.output  # no personal data on the terminal

    result = runner.invoke(
        app,
        [
            "audit",
            "replay",
            str(cases[0]),
            "--as-of",
            "2000-01-01T00:00:00",
            "--purpose",
            "x",
            "--data-dir",
            str(data_dir),
        ],
    )
    assert result.exit_code == 1
    assert "did not exist then" in result.output
