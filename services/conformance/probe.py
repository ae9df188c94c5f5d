"""The conformance kit's side of the bus: send a step request, see what the adapter answered.

It listens with core subscriptions to the entity's result and dead-letter subjects (JetStream
delivers every stored message to them as well) before it sends anything, so no answer can slip
past; it reads no stream and makes no consumer. It sends nothing before it hears the adapter's
heartbeat: requests sent to an adapter that is not running would only wait in its queue. An
answer is matched to its request by case and attempt id (a result) or by the request's exact
bytes (a dead letter keeps the original bytes).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from nats.aio.client import Client
from nats.aio.msg import Msg
from pydantic import ValidationError

from schemas import subjects
from schemas.messages import StepResult
from services.bus.publishing import publish


@dataclass(frozen=True)
class Answer:
    """What the adapter did with one request: a result, a dead letter, or nothing in time."""

    kind: Literal["result", "dead letter", "nothing"]
    result: StepResult | None = None
    reason: str = ""


class AdapterProbe:
    def __init__(self, nc: Client, entity: str) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.entity = entity
        self._results: dict[tuple[UUID, UUID], asyncio.Future[Answer]] = {}
        self._letters: dict[bytes, asyncio.Future[Answer]] = {}
        self._beat = asyncio.Event()

    @asynccontextmanager
    async def listening(self) -> AsyncIterator["AdapterProbe"]:
        subs = [
            await self.nc.subscribe(subjects.entity_results(self.entity), cb=self._result),
            await self.nc.subscribe(subjects.dead_letter(self.entity), cb=self._letter),
            await self.nc.subscribe(subjects.heartbeat(self.entity), cb=self._heartbeat),
        ]
        await self.nc.flush()  # the server knows the subscriptions before anything is sent
        try:
            yield self
        finally:
            for sub in subs:
                await sub.unsubscribe()

    async def adapter_alive(self, within: float) -> bool:
        """True once the adapter's heartbeat is heard (it sends one as it starts consuming)."""
        try:
            async with asyncio.timeout(within):
                await self._beat.wait()
        except TimeoutError:
            return False
        return True

    async def send(
        self, subject: str, data: bytes, msg_id: str, key: tuple[UUID, UUID] | None, wait: float
    ) -> Answer:
        """Publish `data` to the work stream; the adapter's answer, or `nothing` after `wait`."""
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[Answer] = loop.create_future()
        self._letters[data] = answered
        if key is not None:
            self._results[key] = answered
        try:
            await publish(self.js, subject, data, msg_id=msg_id)
            async with asyncio.timeout(wait):
                return await answered
        except TimeoutError:
            return Answer("nothing")
        finally:
            self._letters.pop(data, None)
            if key is not None:
                self._results.pop(key, None)

    async def _result(self, msg: Msg) -> None:
        try:
            result = StepResult.model_validate_json(msg.data)
        except ValidationError:
            return  # not a result of ours to judge: the ledger files it
        waiting = self._results.get((result.envelope.case_id, result.attempt_id))
        if waiting is None or waiting.done() or result.outcome == "accepted":
            return  # someone else's, or a deferred answer: its final result follows
        waiting.set_result(Answer("result", result=result))

    async def _letter(self, msg: Msg) -> None:
        waiting = self._letters.get(msg.data)
        if waiting is not None and not waiting.done():
            reason = (msg.headers or {}).get(subjects.HEADER_DEAD_LETTER_REASON, "")
            waiting.set_result(Answer("dead letter", reason=reason))

    async def _heartbeat(self, msg: Msg) -> None:
        self._beat.set()
