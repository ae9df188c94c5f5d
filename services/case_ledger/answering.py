"""The ledger's side of request/reply: one subscription per question of the table
(schemas/queries.py, `LEDGER_QUESTIONS`), each decoding the question, asking its handler and
replying with the answer, in the ledger's queue group so one ledger answers."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import BaseModel

from schemas import subjects
from schemas.queries import LedgerQuestion
from services.bus.codec import decode
from services.errors import Unprocessable

log = structlog.get_logger(__name__)

Q = TypeVar("Q", bound=BaseModel | None)
A = TypeVar("A", bound=BaseModel)


@dataclass(frozen=True)
class Answering:
    """A question and how the ledger answers its requests."""

    question: LedgerQuestion[Any, Any]
    handle: Callable[[Msg], Awaitable[None]]


def answering(question: LedgerQuestion[Q, A], answer: Callable[[Q], Awaitable[A]]) -> Answering:
    model = cast("type[BaseModel] | None", question.question)  # None: nothing to decode

    async def handle(msg: Msg) -> None:
        try:
            asked = None if model is None else decode(model, msg.data)
            reply = await answer(cast(Q, asked))
        except Unprocessable as exc:
            log.warning("bad ledger query", question=question.name, reason=str(exc))
            return  # the asker times out; nothing to answer to garbage
        await msg.respond(reply.model_dump_json().encode())

    return Answering(question, handle)


async def subscribe_answers(nc: Client, answers: Iterable[Answering]) -> list[Subscription]:
    return [
        await nc.subscribe(a.question.subject, queue=subjects.LEDGER_QUEUE, cb=a.handle)
        for a in answers
    ]


async def serve_answers(nc: Client, answers: Iterable[Answering], stop: asyncio.Event) -> None:
    subscriptions = await subscribe_answers(nc, answers)
    await stop.wait()
    for sub in subscriptions:
        await sub.unsubscribe()
