"""`ventanilla up --tls-cert/--tls-key/--tls-ca`: the whole stack with TLS on the bus.

The CA is made for this test; a case completes over HTTP, so every child reached the bus over
TLS with its own user, and a client that does not speak TLS is turned away.
"""

import asyncio
import os
import signal
from pathlib import Path

import nats
import nats.errors
import pytest

from harness.up import running_up
from services.datadir import DataDir
from tests.throwaway_ca import issue

pytestmark = pytest.mark.e2e


def test_the_stack_runs_over_tls(tmp_path: Path) -> None:
    certs = issue(tmp_path / "pki")
    data_dir = tmp_path / "var"
    tls = ["--tls-cert", str(certs.cert), "--tls-key", str(certs.key), "--tls-ca", str(certs.ca)]
    with running_up(data_dir, tmp_path / "up.out", None, *tls) as stack:
        credentials = stack.credentials

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
        os.killpg(stack.process.pid, signal.SIGINT)
        assert stack.process.wait(timeout=60) == 0
