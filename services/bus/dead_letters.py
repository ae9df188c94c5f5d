"""The dead-letter stream: where a message that can never be processed is kept, with why."""

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from schemas import subjects
from services.bus.publishing import publish


async def dead_letter(js: JetStreamContext, origin: str, msg: Msg, reason: str) -> None:
    """Keep the original bytes and say why; the caller then acks the original."""
    meta = msg.metadata
    stream, sequence = meta.stream, meta.sequence.stream
    await publish(
        js,
        subjects.dead_letter(origin),
        msg.data,
        msg_id=f"dlq:{stream}:{sequence}",
        headers={
            subjects.HEADER_DEAD_LETTER_REASON: reason[:1000],
            subjects.HEADER_ORIGIN_STREAM: stream,
            subjects.HEADER_ORIGIN_SEQUENCE: str(sequence),
            subjects.HEADER_ORIGIN_SUBJECT: msg.subject,
        },
    )
