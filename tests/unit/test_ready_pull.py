"""The adapter's pull loop: bound only to the FastStream subscriber shape it was written for,
pulling only for free workers."""

import asyncio

import pytest
from faststream.nats import JStream, NatsBroker, PullSub

from services.entity_adapters.ready_pull import WorkerSlots, bind_ready_pull


def test_a_subscriber_of_another_shape_is_refused_at_start_up() -> None:
    broker = NatsBroker()
    # One worker: FastStream builds its plain pull subscriber, which has no worker queue.
    single = broker.subscriber(
        "ventanilla.work.x.>",
        stream=JStream("W", declare=False),
        durable="x",
        pull_sub=PullSub(batch_size=1),
    )
    with pytest.raises(TypeError, match="ConcurrentPullStreamSubscriber"):
        bind_ready_pull(single, 1.0)


async def test_a_pull_takes_only_free_workers_and_waits_when_none_is_free() -> None:
    slots = WorkerSlots(3)
    assert await slots.take(2) == 2
    assert await slots.take(5) == 1
    waiting = asyncio.create_task(slots.take(5))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # every worker is busy: no pull
    slots.give()
    assert await asyncio.wait_for(waiting, 1.0) == 1
    slots.give(2)
    assert await slots.take(5) == 2
