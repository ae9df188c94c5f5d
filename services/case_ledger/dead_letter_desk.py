"""The dead-letter desk: the operator's pages list the letters and redrive them through the
ledger, which holds the rights to read the dead-letter stream and to republish on the original
subjects (services/bus/permissions.py). The gateway only asks; it never reads a letter's body.

A letter's payload leaves the desk redacted: its JSON shape with every value masked, so an
operator sees which fields a bad message had without seeing a DNI. Each redrive is recorded
(who, when, why) before it is published, once per letter (redrives.py).
"""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from schemas import queries
from schemas.dead_letters import (
    DeadLetterList,
    DeadLetterQuery,
    DeadLetterView,
    Redrive,
    RedriveAnswer,
    RedriveRequest,
    RedriveResult,
)
from services.bus.dead_letters import dead_letter_at, dead_letters, retry

from .answering import Answering, answering, serve_answers
from .redrives import Redrives
from .writer import LedgerThread

log = structlog.get_logger(__name__)

MASK = "•••"


def redact(data: bytes) -> str:
    """The payload's JSON shape with every value masked; a short note when it is not JSON."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return f"[{len(data)} bytes, not JSON]"
    return json.dumps(_masked(value), ensure_ascii=False)


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return None if value is None else MASK


class DeadLetterDesk:
    def __init__(self, js: JetStreamContext, redrives: Redrives, reader: LedgerThread) -> None:
        self.js, self.redrives, self.reader = js, redrives, reader

    async def letters(self, query: DeadLetterQuery) -> DeadLetterList:
        found = await dead_letters(self.js, limit=query.limit)
        if query.source:
            found = [letter for letter in found if letter.filed_by == query.source]
        done = await self.reader.run(self.redrives.of, [letter.id for letter in found])
        return DeadLetterList(
            letters=[
                DeadLetterView(
                    id=letter.id,
                    filed_by=letter.filed_by,
                    reason=letter.reason,
                    origin_subject=letter.origin_subject,
                    origin_stream=letter.origin_stream,
                    origin_sequence=letter.origin_sequence,
                    size=letter.size,
                    redacted=redact(letter.data),
                    redriven=done.get(letter.id),
                )
                for letter in reversed(found)  # newest first
            ]
        )

    async def redrive(self, request: RedriveRequest) -> RedriveAnswer:
        results = []
        for letter_id in dict.fromkeys(request.letter_ids):  # each once, in the order asked
            results.append(await self._redrive_one(letter_id, request))
        return RedriveAnswer(results=results)

    async def _redrive_one(self, letter_id: int, request: RedriveRequest) -> RedriveResult:
        try:
            letter = await dead_letter_at(self.js, letter_id)
        except NotFoundError:
            return RedriveResult(id=letter_id, outcome="missing")
        mark = Redrive(at=datetime.now(UTC), operator=request.operator, reason=request.reason)
        if not await self.reader.run(self.redrives.claim, letter_id, mark):
            return RedriveResult(id=letter_id, outcome="already-redriven")
        try:
            await retry(self.js, letter)
        except Exception as exc:  # the claim is released so the operator may try again
            await self.reader.run(self.redrives.release, letter_id)
            log.warning("redrive failed", letter=letter_id, error=type(exc).__name__)
            return RedriveResult(id=letter_id, outcome="failed", detail=type(exc).__name__)
        log.info("dead letter redriven", letter=letter_id, origin=letter.origin_subject)
        return RedriveResult(id=letter_id, outcome="redriven")

    def answers(self) -> list[Answering]:
        return [
            answering(queries.DEAD_LETTERS, self.letters),
            answering(queries.REDRIVE, self.redrive),
        ]

    async def serve(self, nc: Client, stop: asyncio.Event) -> None:
        await serve_answers(nc, self.answers(), stop)
