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
`_consume_pull` on the instance. Checked against faststream 0.7.8: `_create_subscription` starts
`self._consume_pull(cb=self._put_msg)` as a supervised task, and `_put_msg` blocks while
`max_workers` messages are in flight. `bind_ready_pull` refuses a subscriber of another shape,
so an upgrade that changes it fails at start-up, not silently.
"""

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


def bind_ready_pull(subscriber: object, batch: int, wait: float) -> None:
    """Make `subscriber` pull up to `batch` ready messages at a time, waiting `wait` s for one."""
    if not isinstance(subscriber, ConcurrentPullStreamSubscriber) or not hasattr(
        subscriber, "_put_msg"
    ):
        raise TypeError(
            f"expected FastStream's ConcurrentPullStreamSubscriber, got {type(subscriber)!r}"
        )
    pull_subscriber = subscriber

    async def consume_ready(cb: Callable[[Msg], Coroutine[Any, Any, Any]]) -> None:
        subscription = pull_subscriber.subscription
        assert subscription is not None, "the subscription is made before the loop starts"
        while pull_subscriber.running:
            # No more than the free worker slots: a message pulled but not started still runs
            # down its ack wait, and would be delivered twice if it waited behind slow ones.
            ready = max(1, min(batch, pull_subscriber.limiter.value))
            messages: list[Msg] = []
            with suppress(*TRANSIENT):
                messages = await fetch_ready(subscription, ready, wait)
            # `cb` is `_put_msg`: it returns once a worker slot is free, so pulling pauses
            # while `max_workers` requests are in flight.
            for message in messages:
                await cb(message)

    # The instance attribute shadows the class's method; ConcurrentMixin is unslotted.
    pull_subscriber._consume_pull = consume_ready  # type: ignore[method-assign]
