"""A stack of processes run on one data directory, which it holds while they run: two stacks
on one ledger would corrupt each other."""

import fcntl
import os
from pathlib import Path
from typing import IO, Generic, Protocol, TypeVar

from services.datadir import DataDir
from services.stack.supervisor import Supervisor

Info = TypeVar("Info")


class StackAlreadyRunning(RuntimeError):
    """Another `ventanilla up` already runs on this data dir."""


def hold_data_dir(data_dir: DataDir) -> IO[str]:
    """Take the data dir for this process: two stacks on one ledger would corrupt each other.

    The lock is the kernel's (flock), so it is released when the holder dies, however it dies.
    """
    data_dir.root.mkdir(parents=True, exist_ok=True)
    path = data_dir.root / "up.lock"
    lock = path.open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise StackAlreadyRunning(
            f"{data_dir.root} is in use by a running `ventanilla up` (pid {holder})"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


class StackOptions(Protocol):
    @property
    def data_dir(self) -> Path: ...


class HeldStack(Generic[Info]):
    """Starts its processes under `supervisor` once it holds the data dir; stops them and lets
    the data dir go. Subclasses (dataclasses) give `options` and `supervisor`, and `_start`."""

    options: StackOptions
    supervisor: Supervisor
    _lock: IO[str] | None

    @property
    def data_dir(self) -> DataDir:
        return DataDir(self.options.data_dir.resolve())

    def start(self) -> Info:
        """Start every process; raises (after stopping what it started) when one cannot start."""
        self._lock = hold_data_dir(self.data_dir)
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Info:
        raise NotImplementedError

    def stop(self) -> None:
        self.supervisor.stop()
        if self._lock is not None:
            self._lock.close()
            self._lock = None
