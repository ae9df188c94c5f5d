"""Publishing to JetStream so that nothing is lost and nothing is stored twice.

A publish that times out may still have been stored, so it is retried with the same
`Nats-Msg-Id`; the stream's duplicate window turns the retry into a no-op.
"""

import asyncio

import structlog
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import ServiceUnavailableError
from pydantic import BaseModel

from services.bus.tracing import inject_trace_context

log = structlog.get_logger(__name__)

RETRYABLE = (NatsTimeout, NoRespondersError, ServiceUnavailableError, asyncio.TimeoutError)


async def publish(
    js: JetStreamContext,
    subject: str,
    message: BaseModel | bytes,
    *,
    msg_id: str,
    headers: dict[str, str] | None = None,
    ack_timeout: float = 5.0,
    give_up_after: float = 60.0,
) -> PubAck:
    """Publish until the stream acknowledges; raises only after `give_up_after` seconds."""
    payload = message if isinstance(message, bytes) else message.model_dump_json().encode()
    all_headers = {"Nats-Msg-Id": msg_id, **(headers or {})}
    inject_trace_context(all_headers)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    pause = 0.05
    while True:
        try:
            return await js.publish(subject, payload, timeout=ack_timeout, headers=all_headers)
        except RETRYABLE as exc:
            if loop.time() + pause > deadline:
                raise
            log.warning("publish retry", subject=subject, error=type(exc).__name__)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
