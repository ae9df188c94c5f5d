"""`ventanilla up` as a user runs it: a real process tree on free ports in a data dir, found by
the titles its children give themselves (`ventanilla ledger`, `ventanilla adapter reniec`, ...,
and nats-server by its binary), driven over HTTP and stopped with Ctrl-C (SIGINT)."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from harness.commands import CHANNEL, case_body
from harness.polling import eventually
from harness.procfs import children_of
from harness.stackfiles import StackFiles
from services.credentials import DevCredentials
from services.datadir import DataDir

FINAL = ("completed", "rejected")
READY_SECONDS = 120


def ventanilla() -> list[str]:
    """The installed console script beside this interpreter (what `make up` runs)."""
    script = Path(sys.executable).parent / "ventanilla"
    return [str(script)] if script.exists() else [sys.executable, "-m", "services.cli"]


def cli_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment with `env` added, and a terminal wide enough for the CLI's tables."""
    return {**os.environ, "COLUMNS": "200", **(env or {})}


def issue_channel_token(data_dir: Path, channel: str = CHANNEL) -> str:
    """A channel token without the demo tokens' rate limit, issued by `ventanilla token`."""
    issue = ["token", "issue", "--channel", channel, "--rate", "100000"]
    issued = subprocess.run(
        [*ventanilla(), *issue, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        env=cli_env(),
    )
    return next(
        words[1]
        for words in (line.split() for line in issued.stdout.splitlines())
        if len(words) == 2 and words[0] == "token"
    )


@dataclass
class UpStack(StackFiles):
    process: subprocess.Popen[bytes]
    data_dir: Path
    output_file: Path

    @property
    def output(self) -> str:
        return self.output_file.read_text()

    @cached_property
    def credentials(self) -> DevCredentials:
        credentials = DataDir(self.data_dir).dev_credentials
        return DevCredentials.model_validate_json(credentials.read_text())

    @cached_property
    def token(self) -> str:
        return issue_channel_token(self.data_dir)

    def children(self) -> dict[int, str]:
        return children_of(self.process.pid)

    def _titled(self, title: str) -> list[int]:
        """The children whose command line is `title` (or starts with it and an argument)."""
        return [
            pid
            for pid, args in self.children().items()
            if args == title or args.startswith(title + " ")
        ]

    def child(self, title: str) -> int:
        matches = self._titled(title)
        assert len(matches) == 1, f"{title!r} among {self.children()}"
        return matches[0]

    def kill(self, title: str) -> int:
        pid = self.child(title)
        os.kill(pid, signal.SIGKILL)
        return pid

    def restarted(self, title: str, old_pid: int) -> int | None:
        """The pid of `title` if `up` has started it again since `old_pid`."""
        return next((pid for pid in self._titled(title) if pid != old_pid), None)

    async def wait_restarted(self, title: str, old_pid: int, within: float = 60.0) -> int:
        """Until `up` has started `title` again under a new pid."""
        async with asyncio.timeout(within):
            while (pid := self.restarted(title, old_pid)) is None:
                await asyncio.sleep(0.1)
            return pid

    def http(self, token: str | None = None) -> httpx.Client:
        token = token or next(iter(self.credentials.channels.values()))
        return httpx.Client(
            base_url=self.credentials.gateway_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )

    def submit(self, dni: str) -> str:
        """A duplicado-dni case for `dni` over HTTP, with a demo channel's token; its id."""
        with self.http() as client:
            response = client.post(
                "/v1/cases", json=case_body(dni), headers={"Idempotency-Key": str(uuid4())}
            )
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "submitted"
        return str(response.json()["case_id"])

    def wait_final(self, case_id: str, timeout: float = 60.0) -> dict[str, Any]:
        def final() -> dict[str, Any] | None:
            with self.http() as client:
                response = client.get(f"/v1/cases/{case_id}")
            if response.status_code == 200 and response.json()["status"] in FINAL:
                view: dict[str, Any] = response.json()
                return view
            return None

        return eventually(final, timeout, f"case {case_id} to finish")


def up_command(data_dir: Path, *extra: str, http_port: int = 0) -> list[str]:
    args = ["--data-dir", str(data_dir), "--http-port", str(http_port), "--nats-port", "0"]
    return [*ventanilla(), "up", *args, *extra]


@contextmanager
def running_up(
    data_dir: Path,
    output: Path,
    env: Mapping[str, str] | None = None,
    *extra: str,
    http_port: int = 0,
) -> Iterator[UpStack]:
    """`ventanilla up` (with `env` added to its environment, which its children inherit) until
    it prints ready; stopped with Ctrl-C at the end unless it has stopped already."""
    with output.open("wb") as out:
        process = subprocess.Popen(
            up_command(data_dir, *extra, http_port=http_port),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, as the foreground job of a shell
            env=cli_env(env),
        )
    try:
        eventually(
            lambda: "ready" in output.read_text() or process.poll() is not None or None,
            READY_SECONDS,
            "`up` to print ready",
        )
        assert process.poll() is None, output.read_text()
        yield UpStack(process, data_dir, output)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def ventanilla_up(
    root: Path,
    env: Mapping[str, str] | None = None,
    store: str | None = None,
    ledger_workers: int = 1,
) -> Iterator[UpStack]:
    """`running_up` in a folder of its own: the data dir `root/var`, the output `root/up.out`,
    and the ledger in `store` (`postgresql://...`; None: the SQLite file in the data dir), with
    `ledger_workers` worker processes."""
    extra: tuple[str, ...] = ("--store", store) if store is not None else ()
    if ledger_workers != 1:
        extra += ("--ledger-workers", str(ledger_workers))
    with running_up(root / "var", root / "up.out", env, *extra) as stack:
        yield stack
