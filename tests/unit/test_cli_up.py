"""What `ventanilla up` decides and says before and around running its children; no network."""

import dataclasses
import os
from pathlib import Path

import pytest
from rich.console import Console

from services.cli import stack_view
from services.credentials import DemoClerk, DemoStaff, DevCredentials
from services.datadir import DataDir
from services.stack.held import StackAlreadyRunning, hold_data_dir
from services.stack.ports import PortChoice
from services.stack.supervisor import SupervisorEvent
from services.stack.up import StackInfo


def info(http: PortChoice, nats: PortChoice) -> StackInfo:
    return StackInfo(
        data_dir=DataDir(Path("/srv/var")),
        gateway_url=f"http://127.0.0.1:{http.port}",
        nats_url=f"nats://127.0.0.1:{nats.port}",
        credentials=DevCredentials(
            gateway_url="", nats_url="", channels={"c": "tok"}, auditor="a", operator="o"
        ),
        http_port=http,
        nats_port=nats,
        children=("ledger", "gateway"),
        nats_users=Path("/srv/var/nats/users"),
    )


def test_a_second_stack_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    d = DataDir(tmp_path / "var")
    lock = hold_data_dir(d)
    with pytest.raises(StackAlreadyRunning, match=f"pid {os.getpid()}"):
        hold_data_dir(d)
    lock.close()  # the holder is gone: the data dir is free again
    hold_data_dir(d).close()


def test_only_moved_ports_are_announced() -> None:
    moved = info(PortChoice(41234, 8000), PortChoice(4222, 4222))
    [notice] = stack_view.moved_ports(moved)
    assert "port 8000 is busy" in notice
    assert "41234" in notice
    assert stack_view.moved_ports(info(PortChoice(5000, 0), PortChoice(5001, 0))) == []


def test_a_death_is_reported_with_the_signal_and_the_log() -> None:
    line = stack_view.event(
        SupervisorEvent("exited", "adapter-reniec", pid=42, exit_code=-9, restart_in=2.0),
        Path("var"),
    )
    assert "adapter-reniec (pid 42) was killed by signal 9" in line
    assert "restarting in 2s" in line
    assert "var/logs/adapter-reniec.log" in line


def test_a_child_that_cannot_start_is_reported_with_its_last_words(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "ledger.log").write_text(
        '{"event": "ledger starting"}\nledger refuses to run: the stream was made again\n\n'
    )
    line = stack_view.event(
        SupervisorEvent("exited", "ledger", pid=7, exit_code=78, restart_in=4.0, failing=True),
        tmp_path,
    )
    assert "ledger cannot start: it exited with code 78" in line
    assert "ledger refuses to run: the stream was made again" in line
    assert "retrying in 4s" in line


def test_the_summary_never_says_running_before_the_stack_is_ready() -> None:
    rendered = stack_view.summary(info(PortChoice(5000, 0), PortChoice(5001, 0)), Path("var"))
    text = " ".join(str(getattr(part, "plain", "")) for part in rendered.renderables)  # type: ignore[attr-defined]
    assert "Ventanilla is starting" in text
    assert "running" not in text


def test_the_summary_lists_the_demo_staff_with_their_pages() -> None:
    stack = info(PortChoice(5000, 0), PortChoice(5001, 0))
    credentials = stack.credentials.model_copy(
        update={
            "auditors": {"auditor.sgp": DemoStaff(password="clave-a")},
            "operators": {"operador.mac": DemoStaff(password="clave-o")},
        }
    )
    stack = dataclasses.replace(stack, credentials=credentials)
    out = Console(width=200, record=True)
    out.print(stack_view.summary(stack, Path("var")))
    rows = [line.split() for line in out.export_text().splitlines()]
    assert ["auditor.sgp", "clave-a", "auditor", "http://127.0.0.1:5000/auditoria"] in rows
    assert ["operador.mac", "clave-o", "operator", "http://127.0.0.1:5000/operaciones"] in rows


def test_the_summary_shows_each_demo_clerks_delegations_whole_in_80_columns() -> None:
    stack = info(PortChoice(5000, 0), PortChoice(5001, 0))
    delegations = ["convenio-reniec-014-2025", "convenio-migraciones-021-2025"]
    credentials = stack.credentials.model_copy(
        update={
            "clerks": {
                "asesor.pias-napo": DemoClerk(
                    password="8Y1xnUohZ8GL8TV9",
                    channel="mac-express-pias-napo",
                    delegations=delegations,
                )
            }
        }
    )
    out = Console(width=80, record=True)
    out.print(stack_view.summary(dataclasses.replace(stack, credentials=credentials), Path("var")))
    rows = [line.split() for line in out.export_text().splitlines()]
    assert ["asesor.pias-napo", "8Y1xnUohZ8GL8TV9", "mac-express-pias-napo"] in rows
    for delegation in delegations:
        assert [delegation] in rows
