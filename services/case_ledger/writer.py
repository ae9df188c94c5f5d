"""A thread that runs the ledger's synchronous `eventsourcing` calls one at a time, in order.

The ledger process has two (see main.py). `ledger-writer` runs every change to the ledger, and
the reads whose answers must come in order with those changes (the inbox's and the outbox's
positions, the notification log the outbox relay and the deadline watch follow), so the process
never races itself on a case; concurrent writers are for partitions, not threads.
`ledger-reader` answers the gateway's queries and signs checkpoints, so that a long read never
holds a write up.
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class LedgerThread:
    def __init__(self, name: str = "ledger-writer") -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
