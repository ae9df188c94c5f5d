"""`ventanilla up` with a child that cannot start: it says so, and never that Ventanilla runs."""

import os
import signal
import subprocess
from pathlib import Path

import pytest

from services.datadir import DataDir
from tests.processes import eventually, ventanilla

pytestmark = pytest.mark.e2e


def test_a_ledger_that_cannot_start_is_reported_and_running_is_said_only_once_it_runs(
    tmp_path: Path,
) -> None:
    data = DataDir(tmp_path / "var")
    key = data.master_key
    key.parent.mkdir(parents=True)
    key.write_text("not a key\n")  # a master key restored from the wrong file
    out_file = tmp_path / "up.out"
    ports = ("--http-port", "0", "--nats-port", "0")
    with out_file.open("wb") as out:
        process = subprocess.Popen(
            [*ventanilla(), "up", "--data-dir", str(data.root), *ports],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "COLUMNS": "400"},
        )
    try:
        eventually(
            lambda: "ledger cannot start" in out_file.read_text() or None,
            90,
            "`up` to report the ledger",
        )
        said = out_file.read_text()
        assert "is not a Ventanilla master key" in said  # the ledger's own reason
        assert "running" not in said

        key.unlink()  # the way out for a ledger that holds no data key yet: a new key
        eventually(
            lambda: "Ventanilla is running" in out_file.read_text() or None,
            90,
            "`up` to say it runs once the ledger does",
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
