"""The ledger's inbox: reads the command and result streams in stream order, from its own position.

The position is the tracking record saved with each change, so the ledger needs no acks and
nothing the bus redelivers can be applied twice: a message at or below the position is skipped.
A message that can never be applied goes to the dead-letter stream and the position moves past
it, so it never blocks the messages behind it. Anything else (the database is down) is retried
on the same message, in order.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import BaseModel

from schemas import subjects
from schemas.messages import StepResult, SubmitCase
from services.bus.codec import decode
from services.bus.dead_letters import dead_letter
from services.bus.fetching import fetch_ready
from services.bus.tracing import extract_trace_context, tracer
from services.errors import Unprocessable
from services.failpoints import failpoint

from .application import CaseLedger
from .writer import LedgerThread

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class InboxSource:
    """One stream the ledger follows; `name` is its tracking name in the ledger."""

    name: str
    stream: str
    subjects: str
    model: type[BaseModel]
    apply: Callable[[CaseLedger, Any, Tracking], str]


SOURCES = (
    InboxSource(
        "commands",
        subjects.COMMANDS_STREAM,
        subjects.COMMANDS_SUBJECTS,
        SubmitCase,
        lambda ledger, cmd, tracking: ledger.submit_case(cmd, tracking),
    ),
    InboxSource(
        "results",
        subjects.RESULTS_STREAM,
        subjects.RESULTS_SUBJECTS,
        StepResult,
        lambda ledger, result, tracking: ledger.record_step_result(result, tracking),
    ),
)


class Inbox:
    def __init__(
        self,
        ledger: CaseLedger,
        writer: LedgerThread,
        js: JetStreamContext,
        on_saved: Callable[[], None],
        batch: int = 256,
    ) -> None:
        self.ledger = ledger
        self.writer = writer
        self.js = js
        self.on_saved = on_saved
        self.batch = batch

    async def follow(self, source: InboxSource, stop: asyncio.Event) -> None:
        while not stop.is_set():
            position = await self.writer.run(self.ledger.position, source.name)
            try:
                sub = await self.js.pull_subscribe(
                    source.subjects,
                    stream=source.stream,
                    config=ConsumerConfig(
                        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                        opt_start_seq=position + 1,
                        ack_policy=AckPolicy.NONE,
                        inactive_threshold=60.0,
                    ),
                )
            except Exception as exc:  # the server may be restarting: try again shortly
                log.warning("inbox subscribe failed", source=source.name, error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            try:
                await self._drain(sub, source, stop)
            except Exception as exc:
                # A lost ephemeral consumer, a server restart: resubscribe from the position.
                log.warning("inbox reading interrupted", source=source.name, error=repr(exc))
                await asyncio.sleep(0.5)
            finally:
                try:
                    await sub.unsubscribe()
                except Exception as exc:
                    log.debug("inbox unsubscribe failed", error=repr(exc))

    async def _drain(
        self, sub: JetStreamContext.PullSubscription, source: InboxSource, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            messages = await fetch_ready(sub, self.batch)
            for msg in messages:
                await self._handle(msg, source)

    async def _handle(self, msg: Msg, source: InboxSource) -> None:
        tracking = Tracking(source.name, msg.metadata.sequence.stream)
        if await self.writer.run(self.ledger.is_tracked, tracking):
            return
        pause = 0.1
        while True:
            try:
                outcome = await self._apply(msg, source, tracking)
                break
            except Unprocessable as exc:
                log.warning(
                    "dead letter", source=source.name, seq=tracking.notification_id, reason=str(exc)
                )
                await dead_letter(self.js, "ledger", msg, str(exc))
                await self.writer.run(self.ledger.skip, tracking)
                outcome = "dead-letter"
                break
            except IntegrityError:
                # Another writer recorded this position (or this case) first: if the position
                # is now tracked the message is done, otherwise re-read the case and try again.
                if await self.writer.run(self.ledger.is_tracked, tracking):
                    outcome = "repeat"
                    break
                await asyncio.sleep(pause)
            except Exception as exc:
                log.error(
                    "ledger write failed, retrying",
                    source=source.name,
                    seq=tracking.notification_id,
                    error=repr(exc),
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
        log.debug(
            "inbox message", source=source.name, seq=tracking.notification_id, outcome=outcome
        )
        self.on_saved()

    async def _apply(self, msg: Msg, source: InboxSource, tracking: Tracking) -> str:
        message = decode(source.model, msg.data)
        if isinstance(message, StepResult):
            _check_sender(msg.subject, message)
        case_id = str(message.envelope.case_id)  # type: ignore[attr-defined]
        with tracer().start_as_current_span(
            f"ledger {source.name}",
            context=extract_trace_context(msg.headers),
            attributes={"ventanilla.case_id": case_id},
        ):
            outcome = await self.writer.run(self._apply_and_crash_here, source, message, tracking)
        log.info("case updated", case_id=case_id, source=source.name, outcome=outcome)
        return outcome

    def _apply_and_crash_here(self, source: InboxSource, message: Any, tracking: Tracking) -> str:
        outcome = source.apply(self.ledger, message, tracking)
        failpoint("ledger.after-save")  # saved, not yet published by the outbox
        return outcome


def _check_sender(subject: str, result: StepResult) -> None:
    """A result must come on its own entity's subject: the server lets each entity publish only
    on `ventanilla.result.<entity>.*`, so the subject, unlike the body, tells who sent it."""
    expected = subjects.result(result.entity, result.service)
    if subject != expected:
        raise Unprocessable(f"a result for {result.entity}/{result.service} published on {subject}")
