"""The ledger's questions (schemas/queries.py, LEDGER_QUESTIONS): each is answered by a
subscription of the ledger, in its queue group, and stands in the bus contract."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.msg import Msg

from schemas import subjects
from schemas.queries import LEDGER_QUESTIONS
from services.asyncapi.document import bus_contract
from services.case_ledger.answering import subscribe_answers
from services.case_ledger.dead_letter_desk import DeadLetterDesk
from services.case_ledger.queries import LedgerQueries


class RecordingClient:
    """Stands in for the NATS client: records what the ledger subscribes to."""

    def __init__(self) -> None:
        self.subscribed: list[tuple[str, str]] = []

    async def subscribe(
        self, subject: str, queue: str, cb: Callable[[Msg], Awaitable[None]]
    ) -> str:
        self.subscribed.append((subject, queue))
        return subject


async def test_every_question_has_one_subscription_in_the_ledgers_queue_group() -> None:
    nc: Any = RecordingClient()
    unused: Any = None  # the handlers are only subscribed here, never asked
    await LedgerQueries(unused, unused).subscribe(nc)
    await subscribe_answers(nc, DeadLetterDesk(unused, unused, unused).answers())
    subscribed = sorted(nc.subscribed)
    assert subscribed == sorted((q.subject, subjects.LEDGER_QUEUE) for q in LEDGER_QUESTIONS)


def test_every_question_is_in_the_bus_contract_with_its_models() -> None:
    document = json.loads(bus_contract())
    for question in LEDGER_QUESTIONS:
        key = question.subject.removeprefix(f"{subjects.PREFIX}.")
        channel = document["channels"][key]
        assert channel["address"] == question.subject
        asked = question.question.__name__ if question.question else "Ping"
        assert list(channel["messages"]) == [asked]
        assert list(document["channels"][f"{key}.reply"]["messages"]) == [question.answer.__name__]
        answered = document["operations"][f"ledger.answer.{question.name}"]
        assert answered["action"] == "receive"
        assert answered["channel"] == {"$ref": f"#/channels/{key}"}
        assert document["operations"][f"gateway.ask.{question.name}"]["action"] == "send"
