"""`ventanilla up --tls-cert/--tls-key/--tls-ca`: the whole stack with TLS on the bus.

The CA is made for this test; a case completes over HTTP, so every child reached the bus over
TLS with its own user, and a client that does not speak TLS is turned away.
"""

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import nats
import nats.errors
import pytest

from services.credentials import DevCredentials
from services.datadir import DataDir
from tests.e2e.test_up import Stack
from tests.processes import eventually, ventanilla
from tests.throwaway_ca import issue

pytestmark = pytest.mark.e2e


def test_the_stack_runs_over_tls(tmp_path: Path) -> None:
    certs = issue(tmp_path / "pki")
    data_dir, output_file = tmp_path / "var", tmp_path / "up.out"
    tls = ["--tls-cert", str(certs.cert), "--tls-key", str(certs.key), "--tls-ca", str(certs.ca)]
    command = [*ventanilla(), "up", "--data-dir", str(data_dir), "--http-port", "0"]
    with output_file.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--nats-port", "0", *tls],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "COLUMNS": "200"},
        )
    try:
        credentials_file = DataDir(data_dir).dev_credentials
        credentials = eventually(
            lambda: (
                DevCredentials.model_validate_json(credentials_file.read_text())
                if credentials_file.exists()
                else None
            ),
            60,
            "dev-credentials.json",
        )
        stack = Stack(process, data_dir, output_file, credentials, busy_port=0)
        eventually(lambda: "ready" in stack.output or None, 90, "`up` to print ready")

        assert stack.wait_final(stack.submit("40000001"))["status"] == "completed"

        async def plain_text() -> None:
            seed = DataDir(data_dir).nats_store / "users" / "gateway.nk"
            await nats.connect(
                credentials.nats_url,
                nkeys_seed=str(seed),
                allow_reconnect=False,
                max_reconnect_attempts=0,
            )

        with pytest.raises((nats.errors.Error, OSError)):
            asyncio.run(plain_text())
        server_log = (DataDir(data_dir).logs / "nats-server.log").read_text()
        assert "TLS required for client connections" in server_log
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
