"""`ventanilla up` as a user runs it: a real process tree on free ports, driven over HTTP.

One stack serves the whole module; the tests run in file order and the last one stops it
with Ctrl-C (SIGINT), as a user would.
"""

import asyncio
import os
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator

import httpx
import nats
import nats.errors
import pytest

from harness.polling import eventually
from harness.procfs import alive, children_of
from harness.up import UpStack, running_up, up_command, ventanilla
from schemas.conformance import check_user_name
from schemas.event_types import EventType
from services.bus.permissions import channel_user_name
from services.credentials import DEMO_CHANNELS
from services.datadir import DataDir
from services.entity_adapters.registry import entity_ids, http_back_offices
from services.sites.permissions import SITE_RELAY

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """Someone else's server on the port we ask for: `up` must leave it alone and move."""
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    yield squatter.getsockname()[1]
    squatter.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, busy_port: int) -> Iterator[UpStack]:
    root = tmp_path_factory.mktemp("up")
    with running_up(root / "var", root / "up.out", http_port=busy_port) as up:
        yield up


def test_it_prints_where_everything_is_and_the_demo_tokens(stack: UpStack) -> None:
    out = stack.output
    assert stack.credentials.gateway_url in out
    assert stack.credentials.nats_url in out
    for token in (*stack.credentials.channels.values(), stack.credentials.auditor):
        assert token in out
    assert str(DataDir(stack.data_dir.resolve()).dev_credentials) in out
    assert "ventanilla case submit" in out
    assert "curl" in out


def test_a_busy_port_is_not_taken_over(stack: UpStack, busy_port: int) -> None:
    assert f"port {busy_port} is busy" in stack.output
    assert not stack.credentials.gateway_url.endswith(f":{busy_port}")
    with httpx.Client(base_url=stack.credentials.gateway_url) as client:
        assert client.get("/readyz").status_code == 200


def test_a_case_completes_over_http(stack: UpStack) -> None:
    case_id = stack.submit("40000001")
    view = stack.wait_final(case_id)
    assert view["status"] == "completed"
    assert [s["status"] for s in view["steps"]] == ["completed", "completed"]


def test_a_citizen_unknown_to_reniec_is_rejected(stack: UpStack) -> None:
    view = stack.wait_final(stack.submit("40000002"))
    assert view["status"] == "rejected"


def test_children_carry_their_role_in_the_command_line(stack: UpStack) -> None:
    titles = set(children_of(stack.process.pid).values())
    for title in ("ventanilla ledger", "ventanilla gateway", "ventanilla adapter reniec"):
        assert title in titles
    assert "ventanilla adapter banco-nacion" in titles
    assert "ventanilla backoffice sunarp" in titles
    # The exporter is no part of the readiness check: its title may come a moment later.
    eventually(
        lambda: "ventanilla metrics" in children_of(stack.process.pid).values() or None,
        30,
        "the metrics exporter's title",
    )
    # The one Prometheus endpoint of the bus, listed for the user in dev-credentials.json.
    [url] = stack.credentials.metrics

    def scrape() -> str | None:
        try:
            return httpx.get(url, timeout=5).text
        except httpx.TransportError:
            return None  # not listening yet

    scraped = eventually(scrape, 30, "the metrics endpoint")
    assert "ventanilla_process_up" in scraped
    ps = subprocess.run(
        ["ps", "-o", "args=", "-p", str(stack.child("ventanilla ledger"))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ps.stdout.strip() == "ventanilla ledger"


def test_every_process_has_its_own_nats_user_and_anonymous_clients_are_refused(
    stack: UpStack,
) -> None:
    users = DataDir(stack.data_dir).nats_store / "users"
    channels = {channel_user_name(c) for c in DEMO_CHANNELS}
    # site-relay: the hub's relay for MAC Express sites (the demo site pias-napo is always there).
    # check-<entity>: `ventanilla adapter check`'s user for each entity (docs/entities.md).
    checks = {check_user_name(e) for e in entity_ids()}
    expected = {"admin", "ledger", "gateway", SITE_RELAY, *entity_ids(), *channels, *checks}
    assert {seed.stem for seed in users.glob("*.nk")} == expected
    assert {stat.S_IMODE(seed.stat().st_mode) for seed in users.glob("*.nk")} == {0o600}

    async def anonymous() -> None:
        await nats.connect(
            stack.credentials.nats_url, allow_reconnect=False, max_reconnect_attempts=0
        )

    with pytest.raises(nats.errors.Error, match="Authorization"):
        asyncio.run(anonymous())
    server_log = DataDir(stack.data_dir).logs / "nats-server.log"
    assert "Violation" not in server_log.read_text()  # every child kept to its own subjects


def test_a_killed_adapter_comes_back_and_cases_still_complete(stack: UpStack) -> None:
    before = stack.child("ventanilla adapter reniec")
    os.kill(before, signal.SIGKILL)
    after = eventually(
        lambda: stack.restarted("ventanilla adapter reniec", before),
        30,
        "the reniec adapter to be restarted",
    )
    assert after != before
    assert "adapter-reniec" in stack.output
    assert stack.wait_final(stack.submit("40000001"))["status"] == "completed"


def test_case_show_reads_the_ledger_in_the_data_dir(stack: UpStack) -> None:
    case_id = stack.submit("40000001")
    stack.wait_final(case_id)
    shown = subprocess.run(
        [*ventanilla(), "case", "show", case_id, "--data-dir", str(stack.data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert case_id in shown.stdout
    assert "pago-tasa" in shown.stdout
    assert "banco-nacion" in shown.stdout
    assert "reniec" in shown.stdout
    assert "completed" in shown.stdout
    history = subprocess.run(
        [*ventanilla(), "case", "history", case_id, "--data-dir", str(stack.data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
    )
    assert history.returncode == 0, history.stderr
    assert EventType.DATA_SHARED in history.stdout
    assert "DL 1211" in history.stdout


def test_dlq_list_connects_as_the_bus_owner_with_the_data_dirs_seed(stack: UpStack) -> None:
    listed = subprocess.run(
        [*ventanilla(), "dlq", "list", "--data-dir", str(stack.data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "no dead letters" in listed.stdout  # every case so far was well formed


def test_a_second_up_on_the_same_data_dir_is_refused(stack: UpStack) -> None:
    second = subprocess.run(
        up_command(stack.data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "in use" in second.stdout
    assert stack.process.poll() is None


def test_ctrl_c_stops_every_child_and_exits_0(stack: UpStack) -> None:
    children = children_of(stack.process.pid)
    # nats-server, ledger, gateway, the site relay, the metrics exporter, one adapter per
    # entity, the HTTP back offices
    assert len(children) == 5 + len(entity_ids()) + len(http_back_offices())
    os.killpg(stack.process.pid, signal.SIGINT)
    assert stack.process.wait(timeout=60) == 0
    for pid, args in children.items():
        assert not alive(pid), f"{args} (pid {pid}) outlived `ventanilla up`"
    assert "stopped" in stack.output
