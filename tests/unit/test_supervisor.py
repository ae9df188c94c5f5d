"""The supervisor's decisions, on real short-lived processes and an injected clock."""

import os
import sys
import time
from pathlib import Path

import pytest

from services.stack.processes import ChildProcess
from services.stack.supervisor import Backoff, Supervisor, SupervisorEvent


class FakeClock:
    """Time that moves only when the test (or the supervisor's sleep) moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        time.sleep(0.01)  # let real processes make progress
        self.now += seconds


def python(tmp_path: Path, name: str, code: str) -> ChildProcess:
    return ChildProcess(name, [sys.executable, "-c", code], tmp_path / f"{name}.log")


def wait_exit(process: ChildProcess, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while (code := process.exit_code()) is None:
        assert time.monotonic() < deadline, f"{process.name} did not exit"
        time.sleep(0.01)
    return code


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def events() -> list[SupervisorEvent]:
    return []


@pytest.fixture
def supervisor(clock: FakeClock, events: list[SupervisorEvent]) -> Supervisor:
    return Supervisor(
        Backoff(initial=1.0, maximum=4.0), clock=clock, sleep=clock.sleep, on_event=events.append
    )


def test_a_child_that_dies_is_restarted_after_a_growing_pause(
    tmp_path: Path, clock: FakeClock, events: list[SupervisorEvent], supervisor: Supervisor
) -> None:
    crasher = python(tmp_path, "crasher", "import sys; print('up'); sys.exit(3)")
    supervisor.launch(crasher, layer=1)
    first_pid = crasher.pid
    delays = []
    for _ in range(4):
        assert wait_exit(crasher) == 3
        supervisor.tick()
        exited = events[-1]
        assert (exited.kind, exited.name, exited.exit_code) == ("exited", "crasher", 3)
        assert exited.restart_in is not None
        delays.append(exited.restart_in)
        clock.now += exited.restart_in - 0.1
        supervisor.tick()
        assert events[-1].kind == "exited", "restarted before its pause was over"
        clock.now += 0.1
        supervisor.tick()
        assert events[-1].kind == "started"
    assert delays == [1.0, 2.0, 4.0, 4.0]
    assert crasher.pid != first_pid
    assert supervisor.restarts("crasher") == 4
    wait_exit(crasher)
    assert (tmp_path / "crasher.log").read_text().count("up") == 5
    supervisor.stop()


def test_a_child_that_ran_for_a_while_is_restarted_quickly_again(
    tmp_path: Path, clock: FakeClock, events: list[SupervisorEvent], supervisor: Supervisor
) -> None:
    child = python(tmp_path, "child", "import sys; sys.exit(1)")
    supervisor.launch(child)
    for _ in range(2):  # two quick deaths: the pause grows to 2 s
        wait_exit(child)
        supervisor.tick()
        clock.now += events[-1].restart_in or 0
        supervisor.tick()
    wait_exit(child)
    clock.now += 61  # it had stayed up past `reset_after` before dying
    supervisor.tick()
    assert events[-1].restart_in == 1.0
    supervisor.stop()


def test_a_running_child_is_left_alone(
    tmp_path: Path, events: list[SupervisorEvent], supervisor: Supervisor
) -> None:
    sleeper = python(tmp_path, "sleeper", "import time; time.sleep(60)")
    supervisor.launch(sleeper)
    for _ in range(3):
        supervisor.tick()
    assert [e.kind for e in events] == ["started"]
    supervisor.stop()
    assert sleeper.exit_code() is not None


def test_stop_stops_higher_layers_first_and_everything_ends(
    tmp_path: Path, events: list[SupervisorEvent], supervisor: Supervisor
) -> None:
    processes = {
        name: python(tmp_path, name, "import time; time.sleep(60)")
        for name in ("bus", "ledger", "adapter", "gateway")
    }
    supervisor.launch(processes["bus"], layer=0)
    supervisor.launch(processes["ledger"], layer=1)
    supervisor.launch(processes["adapter"], layer=1)
    supervisor.launch(processes["gateway"], layer=2)
    supervisor.stop()
    order = [(e.kind, e.name) for e in events if e.kind in ("stopping", "stopped")]
    assert order == [
        ("stopping", "gateway"),
        ("stopped", "gateway"),
        ("stopping", "ledger"),
        ("stopping", "adapter"),
        ("stopped", "ledger"),
        ("stopped", "adapter"),
        ("stopping", "bus"),
        ("stopped", "bus"),
    ]
    assert all(p.exit_code() is not None for p in processes.values())
    supervisor.tick()  # a stopped supervisor restarts nothing
    assert all(p.exit_code() is not None for p in processes.values())


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(
    tmp_path: Path, clock: FakeClock, events: list[SupervisorEvent], supervisor: Supervisor
) -> None:
    ready = tmp_path / "ready"
    stubborn = python(
        tmp_path,
        "stubborn",
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)",
    )
    supervisor.launch(stubborn)
    deadline = time.monotonic() + 10
    while not ready.exists():  # SIGTERM must arrive after the child ignores it
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = clock.now
    supervisor.stop(grace=5.0)
    assert [e.kind for e in events][-3:] == ["stopping", "killed", "stopped"]
    assert stubborn.exit_code() == -9
    assert clock.now - started >= 5.0


def test_a_first_start_that_fails_raises(tmp_path: Path, supervisor: Supervisor) -> None:
    missing = ChildProcess("missing", [str(tmp_path / "no-such-program")], tmp_path / "m.log")
    with pytest.raises(FileNotFoundError):
        supervisor.launch(missing)


def test_a_restart_that_fails_is_retried_later(
    tmp_path: Path, clock: FakeClock, events: list[SupervisorEvent], supervisor: Supervisor
) -> None:
    program = tmp_path / "program"
    program.write_text(f"#!{sys.executable}\nimport sys; sys.exit(2)\n")
    program.chmod(0o755)
    child = ChildProcess("flaky", [str(program)], tmp_path / "flaky.log")
    supervisor.launch(child)
    wait_exit(child)
    supervisor.tick()
    program.unlink()  # the next start fails
    clock.now += 1.0
    supervisor.tick()
    failed = events[-1]
    assert failed.kind == "start-failed"
    assert failed.detail is not None
    assert "FileNotFoundError" in failed.detail
    assert failed.restart_in == 2.0
    program.write_text(f"#!{sys.executable}\nimport time; time.sleep(60)\n")
    program.chmod(0o755)
    clock.now += 2.0
    supervisor.tick()
    assert events[-1].kind == "started"
    assert child.exit_code() is None
    supervisor.stop()


def test_a_child_that_keeps_dying_young_is_failing_until_it_stays_up(
    tmp_path: Path, clock: FakeClock, events: list[SupervisorEvent], supervisor: Supervisor
) -> None:
    marker = tmp_path / "fixed"
    # Dies at once until the marker exists (someone fixed what it needs), then stays up.
    code = f"import os, sys, time; os.path.exists({str(marker)!r}) or sys.exit(1); time.sleep(60)"
    child = python(tmp_path, "ledger", code)
    supervisor.launch(child, layer=1)
    failing = []
    for _ in range(3):
        wait_exit(child)
        supervisor.tick()
        failing.append((events[-1].failing, supervisor.failing()))
        clock.now += events[-1].restart_in or 0
        if len(failing) == 3:
            marker.touch()
        supervisor.tick()
    assert failing == [(False, []), (False, []), (True, ["ledger"])]
    assert events[-1].kind == "started"
    clock.now += 5
    supervisor.tick()
    assert supervisor.failing() == ["ledger"], "up for 5 s is not yet healed"
    clock.now += 6
    supervisor.tick()
    assert supervisor.failing() == []
    supervisor.stop()


def test_a_child_that_refuses_its_configuration_is_failing_at_its_first_exit(
    tmp_path: Path, events: list[SupervisorEvent], supervisor: Supervisor
) -> None:
    child = python(tmp_path, "ledger", f"import sys; sys.exit({os.EX_CONFIG})")
    supervisor.launch(child, layer=1)
    wait_exit(child)
    supervisor.tick()
    assert (events[-1].kind, events[-1].failing) == ("exited", True)
    assert supervisor.failing() == ["ledger"]
    supervisor.stop()
