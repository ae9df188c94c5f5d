"""Runs an entity adapter on its durable JetStream consumer.

For each request: decode and validate, call the handler, publish the typed result
(`Nats-Msg-Id` = attempt id), and only then ack. Technical failures are retried with growing
pauses (nak with delay) and reported as a failed attempt after the last delivery; messages that
can never be handled go to the dead-letter stream and are acked, so they block nothing.
"""

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from schemas import subjects
from schemas.messages import Actor, Envelope, StepOutcome, StepRequest, StepResult
from services.bus.codec import decode
from services.bus.dead_letters import dead_letter
from services.bus.fetching import fetch_ready
from services.bus.heartbeats import Activity
from services.bus.publishing import publish
from services.bus.topology import (
    ADAPTER_ACK_WAIT,
    ADAPTER_BACKOFF,
    ADAPTER_MAX_DELIVER,
)
from services.bus.tracing import extract_trace_context, tracer
from services.errors import StepRefused, Unprocessable

from .sdk import EntityAdapter

log = structlog.get_logger(__name__)


class AdapterRunner:
    def __init__(
        self,
        adapter: EntityAdapter,
        back_office: Any,
        js: JetStreamContext,
        batch: int = 64,
        activity: Activity | None = None,
    ) -> None:
        self.activity = activity or Activity()
        self.adapter = adapter
        self.back_office = back_office
        self.js = js
        self.batch = batch
        self.actor = Actor(kind="entity", id=adapter.entity)

    async def run(self, stop: asyncio.Event) -> None:
        entity = self.adapter.entity
        while not stop.is_set():
            try:
                # Bind only: the consumer (and its filter) belongs to the bus owner.
                consumer = subjects.adapter_consumer(entity)
                await self.js.consumer_info(subjects.WORK_STREAM, consumer)
                sub = await self.js.pull_subscribe_bind(consumer, stream=subjects.WORK_STREAM)
            except Exception as exc:  # the server restarts, or the owner has not created it yet
                log.warning("adapter consumer unavailable", entity=entity, error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            try:
                await self._consume(sub, stop)
            except Exception as exc:
                log.warning("adapter consumer interrupted", entity=entity, error=repr(exc))
                await asyncio.sleep(1.0)
            finally:
                # A pull subscription left open makes the connection's drain wait for it.
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _consume(self, sub: JetStreamContext.PullSubscription, stop: asyncio.Event) -> None:
        while not stop.is_set():
            messages = await fetch_ready(sub, self.batch)
            # Requests are independent: let the back office work on them concurrently.
            await asyncio.gather(*(self.handle(m) for m in messages))

    async def handle(self, msg: Msg) -> None:
        self.activity.touch()
        try:
            request, typed = self._read(msg)
        except Unprocessable as exc:
            log.warning("dead letter", entity=self.adapter.entity, reason=str(exc))
            await dead_letter(self.js, self.adapter.entity, msg, str(exc))
            await msg.ack()
            return
        case_id = str(request.envelope.case_id)
        with tracer().start_as_current_span(
            f"{request.entity}.{request.service}",
            context=extract_trace_context(msg.headers),
            attributes={"ventanilla.case_id": case_id, "ventanilla.attempt": request.attempt},
        ):
            answer = await self._answer(msg, request, typed)
            if answer is None:
                return  # nak'ed for a later retry
            outcome, data, reason = answer
            with tracer().start_as_current_span(
                f"result {request.entity}.{request.service}",
                kind=SpanKind.PRODUCER,
                attributes={"ventanilla.outcome": outcome},
            ):
                await publish(
                    self.js,
                    subjects.result(request.entity, request.service),
                    self._result(request, outcome, data, reason),
                    msg_id=f"result:{request.attempt_id}",
                )
        await msg.ack()
        log.info("step answered", case_id=case_id, service=request.service, outcome=outcome)

    def _read(self, msg: Msg) -> tuple[StepRequest, Any]:
        request = decode(StepRequest, msg.data)
        if request.entity != self.adapter.entity:
            raise Unprocessable(f"request for entity {request.entity!r} on another entity's queue")
        contract = self.adapter.contract(request.service)
        if contract is None:
            raise Unprocessable(f"{self.adapter.entity} offers no service {request.service!r}")
        try:
            typed = contract.request.model_validate(request.payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise Unprocessable(
                f"invalid {request.service} request: {where}: {first['msg']}"
            ) from None
        return request, typed

    async def _answer(
        self, msg: Msg, request: StepRequest, typed: Any
    ) -> tuple[StepOutcome, dict[str, Any], str | None] | None:
        handler = self.adapter.handlers[request.service]
        try:
            # Answer well before the consumer's ack wait, or the request is delivered twice.
            with tracer().start_as_current_span(
                f"back-office {request.entity}.{request.service}", kind=SpanKind.CLIENT
            ):
                async with asyncio.timeout(ADAPTER_ACK_WAIT * 0.8):
                    result = await handler(typed, self.back_office)
        except StepRefused as exc:
            return "rejected", {}, exc.reason
        except Exception as exc:
            delivered = msg.metadata.num_delivered
            if delivered < ADAPTER_MAX_DELIVER:
                delay = ADAPTER_BACKOFF[min(delivered, len(ADAPTER_BACKOFF)) - 1]
                log.warning(
                    "back office failed, will retry",
                    case_id=str(request.envelope.case_id),
                    service=request.service,
                    delivery=delivered,
                    error=type(exc).__name__,
                )
                await msg.nak(delay=delay)
                return None
            return "failed", {}, f"{type(exc).__name__} after {delivered} deliveries"
        contract = self.adapter.contract(request.service)
        assert contract is not None
        if not isinstance(result, contract.result):
            return "failed", {}, f"handler returned {type(result).__name__}"
        return "completed", result.model_dump(mode="json"), None

    def _result(
        self, request: StepRequest, outcome: StepOutcome, data: dict[str, Any], reason: str | None
    ) -> StepResult:
        return StepResult(
            envelope=Envelope(
                message_id=uuid4(),
                case_id=request.envelope.case_id,
                correlation_id=request.envelope.case_id,
                causation_id=request.envelope.message_id,
                actor=self.actor,
                occurred_at=datetime.now(UTC),
            ),
            step_id=request.step_id,
            attempt_id=request.attempt_id,
            entity=request.entity,
            service=request.service,
            outcome=outcome,
            data=data,
            reason=reason,
        )
