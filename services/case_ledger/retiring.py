"""Recorded commands leave the bus: the ledger purges its commands stream up to its position.

A `SubmitCase` carries the citizen's DNI, names and inputs. Once the ledger has committed the
batch that recorded it, the bus no longer holds the only copy of that fact, and a copy kept for
the stream's 30 days would be out of the reach of `ventanilla citizen erase`. So after each
committed batch, and whenever it (re)subscribes, the ledger purges the stream up to and
including its committed position.

- Only messages at or below the committed position go, so a command the ledger has not recorded
  (the ledger down, the database away) is never touched. The stream keeps its creation time and
  its last sequence, also across a server restart: followed_streams still recognises it.
- The inbox asks for a purge after each batch without waiting for it (`retire_soon`): one
  purge runs at a time in the background and the next one covers every batch committed
  meanwhile, so a purge's round trip never holds back the next batch (awaited after each batch,
  it made batches fewer and larger, measured as a fault scenario whose ledger saved fewer times).
- A purge up to a sequence, not a delete per message: one request per batch (measured on
  nats-server 2.15.1: ~100,000 messages/s), where JetStream's erasing message delete managed
  ~100-150 messages/s and would hold back the ledger (docs/reliability.md). A purge drops the
  block files it empties; a partly purged block keeps its purged bytes until it is emptied too,
  which is why the store is also encrypted at rest (deploy/nats).
- A purge that fails (the server restarting) is not retried on its own: the next one covers
  everything up to the newer position, and a crash between the commit and the purge is purged at
  the next start.
"""

import asyncio

import structlog
from nats.js import JetStreamContext

log = structlog.get_logger(__name__)


class Retirer:
    """Purges one stream up to the ledger's committed position."""

    def __init__(self, js: JetStreamContext, stream: str, only: str | None = None) -> None:
        """`only`: purge only the messages of this filter (one partition's) at or below the
        position; another partition's position may be behind."""
        self.js = js
        self.stream = stream
        self.only = only
        self.purged_below = 1  # every message below this sequence is gone (as far as we know)
        self._wanted = 0
        self._running: asyncio.Task[None] | None = None

    def retire_soon(self, position: int) -> None:
        """Purge up to `position` in the background; calls made while a purge runs coalesce."""
        self._wanted = max(self._wanted, position)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._catch_up())

    async def _catch_up(self) -> None:
        while self._wanted + 1 > self.purged_below:
            if not await self.retire(self._wanted):
                return  # the next batch asks again

    async def close(self) -> None:
        """Let a running purge finish (or fail) before the connection goes."""
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)

    async def retire(self, position: int) -> bool:
        """Purge every message at or below `position`, which the ledger has committed.

        `position` never exceeds the stream's last sequence (the ledger records only what it
        read, and checks the stream at start), so the purge never renumbers the stream. Never
        raises: a failed purge is covered by the next one. True when the purge was done.
        """
        keep_from = position + 1
        if keep_from <= self.purged_below:
            return True
        try:
            # An empty request purges the whole stream: `seq` is always given, and >= 2 here.
            await self.js.purge_stream(self.stream, seq=keep_from, subject=self.only)
        except Exception as exc:
            log.warning("could not purge recorded commands", stream=self.stream, error=repr(exc))
            return False
        self.purged_below = keep_from
        return True
