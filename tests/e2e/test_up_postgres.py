"""`ventanilla up --store postgresql://...` as a user runs it, and starting over the wrong way.

The NATS store is deleted while the database and the master key survive (the way the issue
that led here lost cases): the ledger refuses to run, `up` says so, the gateway still takes
cases, and after `ventanilla ledger follow-new-streams` every one of them is recorded.
"""

import json
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from services.credentials import DevCredentials
from services.datadir import DataDir
from tests.processes import eventually, ventanilla

pytestmark = pytest.mark.e2e

POSTGRES_DSN = os.environ.get(
    "VENTANILLA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BODY = {
    "procedure": "duplicado-dni",
    "citizen": {"document_type": "DNI", "document_number": "40000001"},
    "inputs": {"reason": "perdida"},
}


@pytest.fixture
def store_url() -> Iterator[str]:
    schema = f"ventanilla_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{POSTGRES_DSN}{'&' if '?' in POSTGRES_DSN else '?'}schema={schema}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


class Up:
    """One run of `ventanilla up`, its output in a file."""

    def __init__(self, data: DataDir, out: Path, *args: str) -> None:
        self.out = out
        ports = ("--http-port", "0", "--nats-port", "0")
        with out.open("wb") as sink:
            self.process = subprocess.Popen(
                [*ventanilla(), "up", "--data-dir", str(data.root), *ports, *args],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "COLUMNS": "400"},
            )
        self.credentials = eventually(
            lambda: self._credentials(data), 60, "dev-credentials.json for this run"
        )

    def _credentials(self, data: DataDir) -> DevCredentials | None:
        if "Ventanilla is starting" not in self.said():
            return None  # the file may still be the previous run's
        return DevCredentials.model_validate_json(data.dev_credentials.read_text())

    def said(self) -> str:
        return self.out.read_text()

    def wait_for(self, text: str, within: float = 90) -> None:
        eventually(lambda: text in self.said() or None, within, repr(text))

    def gateway_alive(self) -> bool | None:
        try:
            response = httpx.get(f"{self.credentials.gateway_url}/healthz", timeout=2)
        except httpx.HTTPError:
            return None
        return True if response.status_code == 200 else None

    def submit(self) -> str:
        token = next(iter(self.credentials.channels.values()))
        response = httpx.post(
            f"{self.credentials.gateway_url}/v1/cases",
            json=BODY,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["case_id"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def case_status(data: DataDir, case_id: str) -> str:
    shown = subprocess.run(
        [*ventanilla(), "case", "show", case_id, "--data-dir", str(data.root)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else f"no case ({shown.stderr.strip()})"


def completed(data: DataDir, case_id: str) -> bool | None:
    return True if "completed" in case_status(data, case_id) else None


def test_a_postgresql_ledger_refuses_a_new_nats_store_until_told_then_records_every_case(
    store_url: str, tmp_path: Path
) -> None:
    data = DataDir(tmp_path / "var")
    first = Up(data, tmp_path / "up-1.out", "--store", store_url)
    try:
        first.wait_for("Ventanilla is running")
        assert "postgresql://" in first.said()  # which ledger it runs on
        before = first.submit()
        eventually(lambda: completed(data, before), 60, "the first case to complete")
    finally:
        first.stop()
    assert json.loads(data.dev_credentials.read_text())  # the data dir stays as it was

    # Starting over by deleting the NATS store alone: the database and the master key survive.
    shutil.rmtree(data.nats_store)
    second = Up(data, tmp_path / "up-2.out")
    try:
        second.wait_for("ledger cannot start")
        assert "follow-new-streams" in second.said()
        eventually(second.gateway_alive, 60, "the gateway to listen")
        waiting = [second.submit() for _ in range(3)]  # the gateway still takes cases
    finally:
        second.stop()
    assert "Ventanilla is running" not in second.said()
    assert all("no case" in case_status(data, c) for c in waiting)

    way_out = subprocess.run(
        [*ventanilla(), "ledger", "follow-new-streams", "--data-dir", str(data.root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert way_out.returncode == 0, way_out.stderr
    third = Up(data, tmp_path / "up-3.out")
    try:
        third.wait_for("Ventanilla is running")
        for case_id in waiting:
            eventually(lambda c=case_id: completed(data, c), 60, f"case {case_id} to complete")
    finally:
        third.stop()
