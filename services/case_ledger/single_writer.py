"""One ledger process per store, enforced by the store's own machinery.

Two ledger processes on one store would race each other on every case and position. The
database settles such races (a repeated tracking record or case version is refused), but each
would then work on a view the other keeps changing; so a ledger process takes the store for
itself before it reads a message, and a second one refuses to start, naming the first.

- SQLite: an exclusive `flock` on a file beside the database; the kernel releases it when the
  holder dies, however it dies.
- PostgreSQL: a session advisory lock on a connection of its own, held for the process's life;
  the server releases it when that session ends (the process died, its connection dropped).
  Readers (the CLI, the gateway's queries) take no lock. A dropped connection loses the lock:
  `still_held()` takes it again, or says that another ledger has it meanwhile.
"""

import contextlib
import fcntl
import os
import socket
import zlib
from pathlib import Path
from typing import IO, Any, Protocol

from services.errors import VentanillaError

from .store import LedgerStore

# The first key of the ledger's advisory locks ("VENT"); the second names the schema.
ADVISORY_CLASS = 0x56454E54


class StoreInUse(VentanillaError):
    """Another ledger process holds this store."""


class StoreHold(Protocol):
    def still_held(self) -> bool:
        """True while this process holds the store; raises `StoreInUse` if another took it."""

    def release(self) -> None: ...


def whoami() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def hold_store(store: LedgerStore) -> StoreHold:
    """Take the store for this ledger process; raises `StoreInUse` when another holds it."""
    env = store.environment()
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.sqlite":
        return FileHold(Path(env["SQLITE_DBNAME"] + ".writer-lock"))
    if module == "eventsourcing.postgres":
        return AdvisoryHold(env)
    return NoHold()


class NoHold:
    """An in-memory ledger belongs to its process anyway."""

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


class FileHold:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            raise StoreInUse(
                f"another ledger process ({holder}) is writing {path.with_suffix('')}: "
                "run exactly one ledger per store"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(whoami() + "\n")
        self._file.flush()

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class AdvisoryHold:
    def __init__(self, env: dict[str, str]) -> None:
        self.where, self.key, self._conninfo = _advisory_target(env)
        self._conn: Any = None
        self._take()

    def _take(self) -> None:
        import psycopg  # only a PostgreSQL ledger pays for importing it

        conn = psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=5,
            application_name=f"ventanilla ledger {whoami()}"[:63],
        )
        got = conn.execute(
            "SELECT pg_try_advisory_lock(%s::int4, %s::int4)", (ADVISORY_CLASS, self.key)
        ).fetchone()
        if not (got and got[0]):
            holder = self._holder(conn)
            conn.close()
            raise StoreInUse(
                f"another ledger process ({holder}) holds the PostgreSQL ledger {self.where}: "
                "run exactly one ledger per store"
            )
        self._conn = conn

    def _holder(self, conn: Any) -> str:
        row = conn.execute(
            "SELECT a.application_name, host(a.client_addr) FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.classid::bigint = %s AND l.objid::bigint = %s",
            (ADVISORY_CLASS, self.key),
        ).fetchone()
        if row is None:
            return "one that just stopped"
        name, address = row
        return f"{name or 'unnamed session'} from {address or 'a local socket'}"

    def still_held(self) -> bool:
        """Checks the lock's session; after a dropped connection it takes the lock again.

        False while the server cannot be reached (nothing can be written then either).
        """
        try:
            if self._conn is not None:
                self._conn.execute("SELECT 1")
                return True
        except Exception:
            self._close()
        try:
            self._take()
        except StoreInUse:
            raise
        except Exception:
            return False
        return True

    def _close(self) -> None:
        _close_session(self._conn)
        self._conn = None

    def release(self) -> None:
        self._close()  # ending the session releases its advisory locks


def partition_lock_class(partition: int) -> int:
    """The first key of partition `partition`'s advisory lock (the second names the schema)."""
    return ADVISORY_CLASS + 1 + partition


class AdvisoryLocks:
    """Ledger workers on one PostgreSQL store: each partition and the leader's work are session
    advisory locks on this worker's own connection. The server gives each lock to one session
    at a time and releases every lock of a session that ends (the worker died, its connection
    dropped), so a partition has one writer and moves when its holder goes, with no lease of
    our own. The leader's key is the one a single ledger always held (AdvisoryHold): the
    commands that need no ledger running (`ledger follow-new-streams`) still see one."""

    LEADER = -1
    shared = True

    def __init__(self, env: dict[str, str]) -> None:
        self.where, self.key, self._conninfo = _advisory_target(env)
        self._conn: Any = None
        self.held: set[int] = set()

    def _connect(self) -> Any:
        import psycopg

        if self._conn is None:
            self._conn = psycopg.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=5,
                application_name=f"ventanilla ledger {whoami()}"[:63],
            )
        return self._conn

    def take(self, keys: list[int]) -> set[int]:
        """Try each key not yet held; the ones this worker got. Raises while the store is away."""
        conn = self._connect()
        got: set[int] = set()
        for key in keys:
            if key in self.held:
                continue
            first = ADVISORY_CLASS if key == self.LEADER else partition_lock_class(key)
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s::int4, %s::int4)", (first, self.key)
            ).fetchone()
            if row and row[0]:
                got.add(key)
        self.held |= got
        return got

    def alive(self) -> bool:
        """True while the session holding the locks lives; False once it is gone (and with it
        every lock: the caller stops whatever it did under them)."""
        if self._conn is None:
            return not self.held
        try:
            self._conn.execute("SELECT 1")
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        self.held.clear()
        _close_session(self._conn)
        self._conn = None


def _advisory_target(env: dict[str, str]) -> tuple[str, int, str]:
    from psycopg.conninfo import make_conninfo

    dbname = env["POSTGRES_DBNAME"]
    schema = env.get("POSTGRES_SCHEMA", "public")
    where = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{dbname}/{schema}"
    key = zlib.crc32(f"{dbname}/{schema}".encode()) & 0x7FFFFFFF
    conninfo = make_conninfo(
        dbname=dbname,
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD", ""),
    )
    return where, key, conninfo


def _close_session(conn: Any) -> None:
    """Close a lock session (ending it releases its advisory locks)."""
    if conn is not None:
        with contextlib.suppress(Exception):  # already broken: closing it is all that is left
            conn.close()
