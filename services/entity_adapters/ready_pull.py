"""FastStream's concurrent pull subscriber, pulling what is ready instead of one message a pull.

FastStream's `ConcurrentPullStreamSubscriber` pulls `PullSub.batch_size` messages per request.
With a batch of one, every request costs a pull round trip of its own (a pull request written,
the server's answer read, the loop woken): measured, that made an adapter on FastStream spend
about twice the CPU per request of the nats-py runner before it. With a larger batch, nats-py's
`fetch` lingers until the batch is full or the timeout ends, so a lone request on an idle
consumer would wait for the whole timeout.

`fetch_ready` (services/bus/fetching.py) does neither: it waits for one message, then takes
whatever else is already there. This module makes the subscriber's pull loop use it. Everything
after the pull is FastStream's own: the bounded in-memory queue, the `max_workers` workers, the
middlewares (telemetry included), the handler, the manual acks.

FastStream has no public hook for the pull loop, so the loop replaces the subscriber's
`_consume_pull` on the instance, and wraps its `_consume_msg` to count the free workers. Checked
against faststream 0.7.8: `_create_subscription` starts `self._consume_pull(cb=self._put_msg)` as
a supervised task, and `_serve_consume_queue` starts `self._consume_msg` for each queued message.
`bind_ready_pull` refuses a subscriber of another shape, so an upgrade that changes it fails at
start-up, not silently.
"""

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

from faststream.nats.subscriber.usecases.stream_pull_subscriber import (
    ConcurrentPullStreamSubscriber,
)
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import ServiceUnavailableError

from services.bus.fetching import fetch_ready

# Errors FastStream's own loop rides out (the server restarts, the connection reconnects).
TRANSIENT = (NatsTimeout, ConnectionClosedError, ServiceUnavailableError)


class WorkerSlots:
    """The workers not busy with a message this loop pulled: taken at the pull, given back
    when the worker is done.

    FastStream's `limiter` cannot tell this: `_put_msg` holds it only while it queues a
    message, and a worker takes it only once its task runs, so between the two a queued
    message counts as a free worker and the loop would pull beyond them.
    """

    def __init__(self, size: int) -> None:
        self.free = size
        self._given = asyncio.Event()

    async def take(self, most: int) -> int:
        """Wait for one free worker, then take up to `most` of the free ones."""
        while self.free == 0:
            self._given.clear()
            await self._given.wait()
        taken = min(most, self.free)
        self.free -= taken
        return taken

    def give(self, count: int = 1) -> None:
        if count:
            self.free += count
            self._given.set()


def bind_ready_pull(subscriber: object, wait: float) -> None:
    """Make `subscriber` pull only for its free workers, waiting `wait` s for a first message."""
    if not isinstance(subscriber, ConcurrentPullStreamSubscriber) or not all(
        hasattr(subscriber, name) for name in ("_put_msg", "_consume_msg", "max_workers")
    ):
        raise TypeError(
            f"expected FastStream's ConcurrentPullStreamSubscriber, got {type(subscriber)!r}"
        )
    pull_subscriber = subscriber
    slots = WorkerSlots(pull_subscriber.max_workers)
    consume_msg = pull_subscriber._consume_msg

    async def consume_and_free(message: Msg) -> None:
        try:
            await consume_msg(message)
        finally:
            slots.give()

    async def consume_ready(cb: Callable[[Msg], Coroutine[Any, Any, Any]]) -> None:
        subscription = pull_subscriber.subscription
        assert subscription is not None, "the subscription is made before the loop starts"
        while pull_subscriber.running:
            # No more than the free workers: a message pulled but not started still runs down
            # its ack wait, and would be delivered twice if it waited behind slow ones.
            ready = await slots.take(pull_subscriber.max_workers)
            messages: list[Msg] = []
            try:
                with suppress(*TRANSIENT):
                    messages = await fetch_ready(subscription, ready, wait)
            finally:
                slots.give(ready - len(messages))
            # `cb` is `_put_msg`, which queues the message for a worker task.
            for message in messages:
                await cb(message)

    # Instance attributes shadow the class's methods (ConcurrentMixin is unslotted): the
    # worker queue calls `self._consume_msg`, the subscription task `self._consume_pull`.
    pull_subscriber._consume_msg = consume_and_free  # type: ignore[method-assign,assignment]
    pull_subscriber._consume_pull = consume_ready  # type: ignore[method-assign]
