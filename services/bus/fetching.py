"""Pulling from JetStream without waiting for a full batch.

nats-py's `fetch(n, timeout)` on an idle consumer sends a lingering pull and, once the first
message arrives, keeps waiting for the other n-1 until the timeout: an idle adapter would hold
a lone request for up to the whole timeout (measured: ~0.5 s per hop on average). Instead, wait
for one message, then take only what the server says is already there.

The first message's metadata carries the consumer's `num_pending`: how many messages the server
still holds for it. The rest are pulled only when there are some, and never more than that, so
the server delivers them at once and the pull ends with the last of them. Pulling the rest on a
short timer instead loses the race on a loaded machine: messages still on their way when the
timer fires land in the subscription's queue, delivered and running down their ack wait with
nobody counting them.
"""

from nats.aio.msg import Msg
from nats.js import JetStreamContext

# A bound on the pull of the rest, reached only when another puller takes them first (the
# server then has nothing to deliver and nats-py lingers for new ones).
REST_WAIT = 0.5


async def fetch_ready(
    sub: JetStreamContext.PullSubscription, batch: int, wait: float = 1.0
) -> list[Msg]:
    """Up to `batch` messages: the first within `wait` seconds, the rest only if already there.

    Returns an empty list when nothing arrived within `wait`.
    """
    try:
        first: list[Msg] = await sub.fetch(1, timeout=wait)
    except TimeoutError:  # nats-py raises its own subclass or asyncio's, by code path
        return []
    wanted = min(batch - 1, first[0].metadata.num_pending)
    if wanted <= 0:
        return first
    try:
        rest: list[Msg] = await sub.fetch(wanted, timeout=REST_WAIT)
    except TimeoutError:  # nats-py raises its own subclass or asyncio's, by code path
        rest = []
    return first + rest
