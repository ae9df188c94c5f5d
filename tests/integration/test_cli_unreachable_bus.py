"""A CLI command with no bus to reach says so and exits, instead of retrying forever."""

import socket
import subprocess
import time
from pathlib import Path

import pytest

from harness.up import cli_env, ventanilla
from services.bus.connection import COMMAND_CONNECT_WAIT

pytestmark = pytest.mark.integration


def test_ventanilla_sites_with_no_server_fails_with_the_reason(tmp_path: Path) -> None:
    data = tmp_path / "var"
    subprocess.run(
        [*ventanilla(), "deploy", "site", "--site", "pias-napo", "--data-dir", str(data)],
        check=True,
        capture_output=True,
    )
    # Bound and not listening: every connection to it is refused, and no one else can take it.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"nats://127.0.0.1:{closed.getsockname()[1]}"
        started = time.monotonic()
        done = subprocess.run(
            [*ventanilla(), "sites", "--data-dir", str(data), "--nats-url", url],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=COMMAND_CONNECT_WAIT + 30,
        )
        took = time.monotonic() - started
    assert done.returncode != 0
    assert f"cannot reach NATS at {url}" in done.stderr + done.stdout
    assert "BusUnreachable" in done.stderr + done.stdout
    assert took < COMMAND_CONNECT_WAIT + 20
