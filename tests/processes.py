"""The `ventanilla` command as a user runs it, its child processes as /proc shows them, and the
official AsyncAPI parser (tools/asyncapi) run on a document."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def ventanilla() -> list[str]:
    """The installed console script beside this interpreter (what `make up` runs)."""
    script = Path(sys.executable).parent / "ventanilla"
    return [str(script)] if script.exists() else [sys.executable, "-m", "services.cli"]


def eventually(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def children_of(parent: int) -> dict[int, str]:
    """pid → command line of the live children of `parent`, read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        # Fields after the command name, which is in parentheses and may contain spaces.
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode().strip()
    return found


ASYNCAPI_TOOLS = Path(__file__).resolve().parent.parent / "tools" / "asyncapi"


def asyncapi_parser(document: Path) -> subprocess.CompletedProcess[str]:
    """`@asyncapi/parser` on `document`, offline; exit status 0 only without an error."""
    if not (ASYNCAPI_TOOLS / "node_modules" / "@asyncapi" / "parser").is_dir():
        raise AssertionError("the AsyncAPI parser is not installed: run `make asyncapi-parser`")
    return subprocess.run(
        ["node", str(ASYNCAPI_TOOLS / "validate.mjs"), str(document)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ASYNCAPI_TOOLS,
    )


def pip_install(source: Path, target: Path) -> Path:
    """Install a package into its own folder (`--target`: the project's venv stays untouched)."""
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"),
            *("--target", str(target), str(source)),
        ],
        check=True,
        capture_output=True,
    )
    return target


def env_with(*sites: Path) -> dict[str, str]:
    """The environment with packages installed by `pip_install` on PYTHONPATH."""
    path = os.pathsep.join([*map(str, sites), os.environ.get("PYTHONPATH", "")]).strip(os.pathsep)
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "200"}


@contextmanager
def running_up(
    data_dir: Path, output: Path, env: dict[str, str], *extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`ventanilla up` on free ports until it prints ready; stopped with Ctrl-C at the end."""
    args = ["--data-dir", str(data_dir), "--http-port", "0", "--nats-port", "0", *extra]
    with output.open("wb") as out:
        process = subprocess.Popen(
            [*ventanilla(), "up", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    try:
        eventually(
            lambda: "ready" in output.read_text() or process.poll() is not None or None,
            90,
            "`up` to print ready",
        )
        assert process.poll() is None, output.read_text()
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
