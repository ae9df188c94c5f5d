"""Recorded commands leave the bus: the ledger erases each one from its stream once it is saved.

A `SubmitCase` carries the citizen's DNI, names and inputs. Once the ledger has committed the
batch that recorded it, the bus no longer holds the only copy of that fact, and a copy kept for
the stream's 30 days would be out of the reach of `ventanilla citizen erase`. So after each
committed batch the ledger deletes the batch's messages by stream sequence.

- Deleted, not purged: JetStream's message delete overwrites the message in its block file,
  while a purge up to a sequence leaves the purged messages readable in a partly purged block
  (checked on nats-server 2.15.1). The delete needs one permission on this stream only.
- Only messages at or below the committed position are deleted, so a command the ledger has not
  recorded is never lost; the stream keeps its creation time and its last sequence (also across
  a server restart), which is all that followed_streams needs to recognise it.
- A delete that fails (the server restarting) is not retried on its own: the next batch, or the
  next (re)subscription, sweeps the stream from its first message up to the position. A crash
  between the commit and the deletes is swept the same way at start.
"""

import asyncio
from collections.abc import Iterable

import structlog
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from services.bus.fetching import fetch_ready

log = structlog.get_logger(__name__)

# Deletes in flight at once: one batch's worth pipelined, not one round trip after another.
IN_FLIGHT = 64
SWEEP_BATCH = 256


class Retirer:
    """Deletes the messages of one stream that the ledger's position has passed."""

    def __init__(self, js: JetStreamContext, stream: str, subjects: str) -> None:
        self.js = js
        self.stream = stream
        self.subjects = subjects
        self._sweep_needed = True  # what a previous process saved and did not delete
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def retire(self, seqs: Iterable[int], position: int) -> None:
        """Delete `seqs`, every one at or below the committed `position`; never raises."""
        todo = sorted(seq for seq in seqs if seq <= position)
        if self._sweep_needed:
            await self.sweep(position)
            return
        await asyncio.gather(*(self._delete(seq) for seq in todo))

    async def sweep(self, position: int) -> None:
        """Delete whatever is left on the stream at or below `position`; never raises."""
        self._sweep_needed = False
        try:
            info = await self.js.stream_info(self.stream)
            if info.state.messages == 0 or info.state.first_seq > position:
                return
            seqs = await self._stored_up_to(info.state.first_seq, position)
        except Exception as exc:
            log.warning("could not sweep recorded commands", stream=self.stream, error=repr(exc))
            self._sweep_needed = True
            return
        await asyncio.gather(*(self._delete(seq) for seq in seqs))
        if seqs:
            log.info("swept recorded commands", stream=self.stream, messages=len(seqs))

    async def _stored_up_to(self, first: int, position: int) -> list[int]:
        """The sequences still stored from `first` to `position` (headers only: no bodies)."""
        sub = await self.js.pull_subscribe(
            self.subjects,
            stream=self.stream,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=first,
                ack_policy=AckPolicy.NONE,
                headers_only=True,
                inactive_threshold=10.0,
            ),
        )
        found: list[int] = []
        try:
            while True:
                messages = await fetch_ready(sub, SWEEP_BATCH)
                if not messages:
                    return found
                for msg in messages:
                    seq = msg.metadata.sequence.stream
                    if seq > position:
                        return found
                    found.append(seq)
        finally:
            await sub.unsubscribe()

    async def _delete(self, seq: int) -> None:
        async with self._in_flight:
            try:
                await self.js.delete_msg(self.stream, seq)
            except NotFoundError:
                pass  # deleted already (a sweep and a batch, or a previous process)
            except Exception as exc:
                log.warning(
                    "could not delete a recorded command",
                    stream=self.stream,
                    seq=seq,
                    error=repr(exc),
                )
                self._sweep_needed = True
