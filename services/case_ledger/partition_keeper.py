"""Which ledger partitions, and whether the leader's work, this worker holds; and the tasks
that run under each.

Each worker of a store tries, every second, to take the locks it does not hold
(single_writer.AdvisoryLocks on PostgreSQL): first the partitions it prefers (`--partitions`),
then, after a grace period that lets their preferred workers take theirs, every other one. It
starts a partition's inbox readers when it gets the partition, and the leader's tasks (outbox
relay, status views, deadline watch, checkpoints, ...) when it gets the leader's lock. A worker
whose lock session is gone stops everything it ran under it at once, before it takes anything
again. A worker cut off from NATS gives its locks up after `CUT_OFF_AFTER`, so that a worker
that can still read the streams takes its partitions over.

A worker on SQLite (or in memory) is the only one: it holds everything from the start.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

LEADER = -1
CHECK_EVERY = 1.0
# How long a worker waits before it takes partitions it does not prefer.
GRACE = 3.0
# How long a worker may be without NATS before it gives its partitions up.
CUT_OFF_AFTER = 5.0


class StoreLocks(Protocol):
    shared: bool  # other workers may hold some of the locks

    def take(self, keys: list[int]) -> set[int]: ...

    def alive(self) -> bool: ...

    def release(self) -> None: ...


class WholeStore:
    """The single writer of a SQLite (or in-memory) store holds every partition."""

    shared = False

    def __init__(self, still_held: Callable[[], bool], release: Callable[[], None]) -> None:
        self.still_held = still_held
        self._release = release

    def take(self, keys: list[int]) -> set[int]:
        return set(keys)

    def alive(self) -> bool:
        return self.still_held()

    def release(self) -> None:
        self._release()


Start = Callable[[int], list["asyncio.Task[None]"]]


class PartitionKeeper:
    def __init__(
        self,
        locks: StoreLocks,
        count: int,
        preferred: Iterable[int],
        start: Start,
        connected: Callable[[], bool],
        grace: float = GRACE,
    ) -> None:
        """`start(key)`: the tasks to run while this worker holds `key` (a partition, or
        `LEADER`); they are cancelled when it stops holding it."""
        self.locks = locks
        self.count = count
        self.preferred = sorted(set(preferred))
        self.start = start
        self.connected = connected
        self.grace = grace
        self.running: dict[int, list[asyncio.Task[None]]] = {}
        self.changed = asyncio.Event()  # set whenever what it holds changes (for tests, logs)

    @property
    def held(self) -> set[int]:
        return set(self.running)

    async def run(self, stop: asyncio.Event) -> None:
        began = time.monotonic()
        cut_since: float | None = None
        try:
            while not stop.is_set():
                now = time.monotonic()
                cut_since = None if self.connected() else cut_since or now
                if not await asyncio.to_thread(self.locks.alive):
                    await self._give_up("the store's lock session is gone")
                elif cut_since is not None and now - cut_since >= CUT_OFF_AFTER:
                    if self.running and self.locks.shared:
                        await self._give_up("cut off from NATS")
                        await asyncio.to_thread(self.locks.release)
                elif cut_since is None or not self.locks.shared:
                    await self._take(now - began >= self.grace)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=CHECK_EVERY)
        finally:
            await self._stop_all()

    async def _take(self, every: bool) -> None:
        wanted = [LEADER, *self.preferred]
        if every:
            wanted += [p for p in range(self.count) if p not in self.preferred]
        wanted = [k for k in wanted if k not in self.running]
        if not wanted:
            return
        try:
            got = await asyncio.to_thread(self.locks.take, wanted)
        except Exception as exc:  # the store is away: nothing can be written anyway
            log.warning("cannot take ledger partitions", error=repr(exc))
            return
        for key in sorted(got):
            self.running[key] = self.start(key)
        if got:
            log.info(
                "ledger partitions taken",
                partitions=sorted(k for k in got if k != LEADER),
                leader=LEADER in got,
                holding=sorted(k for k in self.running if k != LEADER),
            )
            self.changed.set()

    async def _give_up(self, why: str) -> None:
        if self.running:
            log.warning("ledger partitions given up", reason=why, partitions=sorted(self.running))
            await self._stop_all()
            self.changed.set()

    async def _stop_all(self) -> None:
        tasks = [t for ts in self.running.values() for t in ts]
        self.running.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
