"""PostgreSQL under the fault suite's ledger.

- `fresh_database`: a database of its own on the machine's server (VENTANILLA_TEST_POSTGRES),
  created on the maintenance database and dropped at the end, for one scenario's run;
- `own_postgres`: a server of the test's own (initdb in a temp dir, a free port, its socket in
  that dir, trust auth) that a scenario may stop and start; the machine's server is never touched.
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.postgres import fresh_database as shared_fresh_database
from services.stack.ports import free_port

POSTGRES_DSN = os.environ.get(
    "VENTANILLA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
BIN_DIRS = (
    Path("/usr/local/bin"),
    *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True),
)
# initdb and postgres refuse to run as root; as root the server runs as this user.
SERVER_USER = "postgres"


@contextmanager
def fresh_database(dsn: str = POSTGRES_DSN) -> Iterator[str]:
    """The URL of a new, empty `ventanilla_fault_<random>` database on `dsn`'s server."""
    with shared_fresh_database(dsn, "ventanilla_fault") as url:
        yield url


def pg_binary(name: str) -> Path:
    for folder in BIN_DIRS:
        if (folder / name).exists():
            return folder / name
    # A loud failure, never a skip: these scenarios must run wherever the suite runs.
    pytest.fail(
        f"no PostgreSQL {name} in {', '.join(map(str, BIN_DIRS))}: "
        "install the server (apt-get install postgresql)"
    )


@dataclass
class OwnPostgres:
    """A PostgreSQL server in `root`, listening on 127.0.0.1:`port` and on a socket in `root`."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str | Path) -> None:
        as_root = os.geteuid() == 0
        done = subprocess.run(
            [str(a) for a in argv],
            capture_output=True,
            text=True,
            check=False,
            user=SERVER_USER if as_root else None,
            cwd=self.root,
        )
        assert done.returncode == 0, f"{argv[0]}: {done.stdout}{done.stderr}"

    def initdb(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, SERVER_USER)
        self._run(pg_binary("initdb"), "-D", self.data, "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
        )
        log = self.root / "postgres.log"
        self._run(pg_binary("pg_ctl"), "-D", self.data, "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session and shuts down cleanly; `immediate` is a crash: the next
        start recovers from the WAL."""
        self._run(pg_binary("pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    # Not under pytest's tmp_path: a unix socket's path must stay short, and the server's user
    # must be able to reach its folder.
    root = Path(tempfile.mkdtemp(prefix="ventanilla-pg-"))
    server = OwnPostgres(root, free_port("127.0.0.1"))
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        if server.running():
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
