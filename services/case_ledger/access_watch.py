"""The ledger process keeps the access-log projection current as it records, a batch at a time.

A query catches up by itself too, but then pays for everything recorded since the last one;
following the log here keeps that to the last second's events. Each step is one bounded batch
on the reader thread, so a long backlog (a ledger from before the projection) never holds up
the queries that share that thread.
"""

import asyncio
import contextlib

import structlog

from .application import CaseLedger
from .writer import LedgerThread

log = structlog.get_logger(__name__)

STEP = 1000  # events per step on the reader thread
IDLE = 1.0  # seconds between looks when there is nothing new


class AccessLogWatch:
    def __init__(self, ledger: CaseLedger, reader: LedgerThread, idle: float = IDLE) -> None:
        self.ledger = ledger
        self.reader = reader
        self.idle = idle

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                read = await self.reader.run(self.ledger.access.catch_up, STEP)
            except Exception as exc:  # the database is away: the next look retries
                log.warning("access log not updated", error=type(exc).__name__)
                read = 0
            if read == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.idle)
