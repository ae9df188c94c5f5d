"""The ledger process signs a checkpoint every so often, and once more when it stops."""

import asyncio
import contextlib

import structlog

from ..writer import LedgerThread
from .ledger_audit import LedgerAudit

log = structlog.get_logger(__name__)

DEFAULT_INTERVAL = 60.0


class CheckpointWatch:
    def __init__(
        self, audit: LedgerAudit, reader: LedgerThread, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self.audit = audit
        self.reader = reader
        self.interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
            await self.sign()

    async def sign(self) -> None:
        try:
            checkpoint = await self.reader.run(self.audit.checkpoint)
        except Exception as exc:  # a missed checkpoint is retried at the next tick
            log.warning("checkpoint not signed", error=type(exc).__name__, detail=str(exc))
            return
        if checkpoint is not None:
            log.info("checkpoint", position=checkpoint.position, events=checkpoint.tree_size)
