"""`ventanilla up` as the system under fault: a real process tree on free ports in a temp dir.

Its children are found by the titles they give themselves (`ventanilla ledger`, `ventanilla
adapter reniec`, `ventanilla gateway`, and nats-server by its binary) and killed with SIGKILL;
the supervisor of `up` restarts them, as it would in production.
"""

import asyncio
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from services.case_ledger.store import LedgerStore
from services.credentials import DevCredentials
from services.datadir import DataDir
from tests.processes import children_of, eventually, ventanilla


@dataclass
class UpStack:
    process: subprocess.Popen[bytes]
    data_dir: Path
    output_file: Path
    credentials: DevCredentials
    token: str  # a channel token without the demo tokens' rate limit

    @property
    def store(self) -> LedgerStore:
        folder = DataDir(self.data_dir)
        return LedgerStore(folder.ledger_store_url(), folder.master_key)

    @property
    def backoffices(self) -> Path:
        return DataDir(self.data_dir).backoffices

    def child(self, title: str) -> int:
        """The pid of the child whose command line is `title` (or starts with it)."""
        matches = [
            pid
            for pid, args in children_of(self.process.pid).items()
            if args == title or args.startswith(title + " ")
        ]
        assert len(matches) == 1, f"{title!r} among {children_of(self.process.pid)}"
        return matches[0]

    def kill(self, title: str) -> int:
        pid = self.child(title)
        os.kill(pid, signal.SIGKILL)
        return pid

    async def wait_restarted(self, title: str, old_pid: int, within: float = 60.0) -> int:
        """Until `up` has started `title` again under a new pid."""
        async with asyncio.timeout(within):
            while True:
                pids = [
                    pid
                    for pid, args in children_of(self.process.pid).items()
                    if (args == title or args.startswith(title + " ")) and pid != old_pid
                ]
                if pids:
                    return pids[0]
                await asyncio.sleep(0.1)


@contextmanager
def ventanilla_up(
    root: Path, env: dict[str, str] | None = None, store: str | None = None
) -> Iterator[UpStack]:
    """`ventanilla up` in `root`, with `env` added to its environment (its children inherit it)
    and the ledger in `store` (`postgresql://...`; None: the SQLite file in the data dir)."""
    data_dir, output_file = root / "var", root / "up.out"
    args = ["--data-dir", str(data_dir), "--http-port", "0", "--nats-port", "0"]
    if store is not None:
        args += ["--store", store]
    with output_file.open("wb") as out:
        process = subprocess.Popen(
            [*ventanilla(), "up", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "COLUMNS": "200", **(env or {})},
        )
    try:
        eventually(
            lambda: "ready" in output_file.read_text() or None if process.poll() is None else 1,
            120,
            "`ventanilla up` to print ready",
        )
        assert process.poll() is None, output_file.read_text()
        credentials = DevCredentials.model_validate_json(
            DataDir(data_dir).dev_credentials.read_text()
        )
        issue = ["token", "issue", "--channel", "mac-lima-norte", "--rate", "100000"]
        issued = subprocess.run(
            [*ventanilla(), *issue, "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        token = next(
            words[1]
            for words in (line.split() for line in issued.stdout.splitlines())
            if len(words) == 2 and words[0] == "token"
        )
        yield UpStack(process, data_dir, output_file, credentials, token)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
