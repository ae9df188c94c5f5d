"""Pulling from JetStream without waiting for a full batch.

nats-py's `fetch(n, timeout)` on an idle consumer sends a lingering pull and, once the first
message arrives, keeps waiting for the other n-1 until the timeout: an idle adapter would hold
a lone request for up to the whole timeout (measured: ~0.5 s per hop on average). Instead, wait
for one message, then take whatever else is already there.
"""

from nats.aio.msg import Msg
from nats.js import JetStreamContext

# How long to wait for the rest once the first message is in: enough for the server's answer
# to a pull of what it already holds, short enough not to add latency to a lone message.
READY_WAIT = 0.005


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
    if batch <= 1:
        return first
    try:
        rest: list[Msg] = await sub.fetch(batch - 1, timeout=READY_WAIT)
    except TimeoutError:  # nats-py raises its own subclass or asyncio's, by code path
        rest = []
    return first + rest
