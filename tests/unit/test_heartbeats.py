"""A process's heartbeats: a quiet adapter that takes work says so at once, a busy one keeps
its interval."""

import asyncio
from typing import cast

from nats.aio.client import Client

from schemas.heartbeats import Heartbeat
from services.bus.heartbeats import Activity, send_heartbeats

EVERY = 5.0  # the production interval: nothing below may wait for it


class HeardBeats:
    """Stands in for the NATS connection: keeps what would be published."""

    def __init__(self) -> None:
        self.beats: list[Heartbeat] = []
        self.new = asyncio.Event()

    async def publish(self, subject: str, payload: bytes) -> None:
        self.beats.append(Heartbeat.model_validate_json(payload))
        self.new.set()

    async def next(self, within: float) -> Heartbeat:
        self.new.clear()
        async with asyncio.timeout(within):
            await self.new.wait()
        return self.beats[-1]


async def test_a_quiet_process_reports_its_first_work_at_once_then_keeps_its_interval() -> None:
    heard, activity, stop = HeardBeats(), Activity(), asyncio.Event()
    beating = asyncio.create_task(
        send_heartbeats(cast(Client, heard), "reniec", activity, stop, every=EVERY)
    )
    try:
        first = await heard.next(within=1.0)
        assert (first.last_activity_at, first.handled) == (None, 0)

        activity.touch()  # a case reaches the adapter
        resumed = await heard.next(within=1.0)  # not 5 s later
        assert resumed.last_activity_at == activity.last_at
        assert resumed.handled == 1

        activity.touch()  # more work, right after a beat that reported work: no extra beat
        await asyncio.sleep(1.0)
        assert len(heard.beats) == 2
    finally:
        stop.set()
        await beating
    assert len(heard.beats) == 2  # stopping sends nothing more


async def test_stopping_ends_the_heartbeats_at_once() -> None:
    heard, stop = HeardBeats(), asyncio.Event()
    beating = asyncio.create_task(
        send_heartbeats(cast(Client, heard), "ledger", Activity(), stop, every=EVERY)
    )
    await heard.next(within=1.0)
    stop.set()
    async with asyncio.timeout(1.0):
        await beating
