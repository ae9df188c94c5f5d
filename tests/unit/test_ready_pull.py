"""The adapter's pull loop binds only to the FastStream subscriber shape it was written for."""

import pytest
from faststream.nats import JStream, NatsBroker, PullSub

from services.entity_adapters.ready_pull import bind_ready_pull


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
        bind_ready_pull(single, 8, 1.0)
