"""The dead-letter stream: where a message that can never be processed is kept, with why.

Operators list the letters and, once the cause is fixed (a new adapter version, a corrected
catalog), retry one: its original bytes go back on its original subject.
"""

import hashlib
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.subjects import DEAD_LETTERS_STREAM
from services.bus.publishing import publish
from services.errors import Unprocessable


async def dead_letter(js: JetStreamContext, origin: str, msg: Msg, reason: str) -> None:
    """Keep the original bytes and say why; the caller then acks the original."""
    msg_id, headers = letter_headers(msg, reason)
    await publish(js, subjects.dead_letter(origin), msg.data, msg_id=msg_id, headers=headers)


def letter_headers(msg: Msg, reason: str) -> tuple[str, dict[str, str]]:
    """The dead letter's `Nats-Msg-Id` and headers: why, and where the original was stored.

    The id is the original's stream position, so filing the same delivery twice keeps one
    letter. A message without JetStream metadata (an in-memory test broker) is named by its bytes.
    """
    try:
        meta = msg.metadata
        stream, sequence = meta.stream, str(meta.sequence.stream)
    except Exception:  # no JetStream reply subject to read the position from
        stream, sequence = "", hashlib.sha256(msg.data).hexdigest()[:32]
    return f"dlq:{stream}:{sequence}", {
        subjects.HEADER_DEAD_LETTER_REASON: reason[:1000],
        subjects.HEADER_ORIGIN_STREAM: stream,
        subjects.HEADER_ORIGIN_SEQUENCE: sequence if stream else "0",
        subjects.HEADER_ORIGIN_SUBJECT: msg.subject,
    }


@dataclass(frozen=True)
class DeadLetter:
    """One kept message: its id in the dead-letter stream, why, and where it came from."""

    id: int
    filed_by: str
    reason: str
    origin_stream: str
    origin_sequence: int
    origin_subject: str
    size: int
    data: bytes

    @property
    def retry_msg_id(self) -> str:
        # The same id for every retry of this letter: a retry repeated within the stream's
        # duplicate window is dropped by the server instead of delivered twice.
        return f"dlq-retry:{DEAD_LETTERS_STREAM}:{self.id}"


async def dead_letters(js: JetStreamContext, *, limit: int = 1000) -> list[DeadLetter]:
    """The last `limit` dead letters, oldest first."""
    info = await js.stream_info(DEAD_LETTERS_STREAM)
    if info.state.messages == 0:
        return []  # an empty stream reports sequence 0, which no message has
    first = max(info.state.first_seq, info.state.last_seq - limit + 1, 1)
    letters = []
    for seq in range(first, info.state.last_seq + 1):
        try:
            letters.append(await dead_letter_at(js, seq))
        except NotFoundError:
            continue  # expired or deleted
    return letters


async def dead_letter_at(js: JetStreamContext, seq: int) -> DeadLetter:
    """The dead letter with this id; raises `NotFoundError` when there is none."""
    msg = await js.get_msg(DEAD_LETTERS_STREAM, seq)
    headers = msg.headers or {}
    return DeadLetter(
        id=seq,
        filed_by=(msg.subject or "").rsplit(".", 1)[-1],
        reason=headers.get(subjects.HEADER_DEAD_LETTER_REASON, ""),
        origin_stream=headers.get(subjects.HEADER_ORIGIN_STREAM, ""),
        origin_sequence=int(headers.get(subjects.HEADER_ORIGIN_SEQUENCE, "0") or 0),
        origin_subject=headers.get(subjects.HEADER_ORIGIN_SUBJECT, ""),
        size=len(msg.data or b""),
        data=msg.data or b"",
    )


async def retry(js: JetStreamContext, letter: DeadLetter) -> PubAck:
    """Publish the original bytes again on the original subject (`duplicate` when repeated)."""
    if not letter.origin_subject:
        raise Unprocessable(f"dead letter {letter.id} does not say where it came from")
    return await publish(
        js,
        letter.origin_subject,
        letter.data,
        msg_id=letter.retry_msg_id,
        headers={subjects.HEADER_RETRY_OF: str(letter.id)},
    )
