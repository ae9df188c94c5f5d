"""Runs an entity adapter on FastStream, bound to the durable consumer the bus owner made.

For each request: decode and validate, call the handler, publish the typed result (`Nats-Msg-Id`
= `result:<attempt id>`; a handler's `Accepted`, a deferred answer, as an `accepted` result with
`accepted:<attempt id>`), and only then ack (`AckPolicy.MANUAL`: FastStream's default,
`REJECT_ON_ERROR`, would terminate a request on any exception and lose it). Technical failures
are retried with growing pauses (nak with delay) and reported as a failed attempt after the last
delivery; messages that can never be handled go to the dead-letter stream and are acked, so they
block nothing. The operation id in the request is the same on every attempt: it reaches the back
office as its idempotency key.

The adapter never creates or changes a stream or consumer: the stream is `declare=False`, and it
starts consuming only once `consumer_info` finds its consumer (FastStream would otherwise try to
create it, which the entity's bus user may not do). W3C trace context is read and written by
FastStream's telemetry middleware.

Over 300 lines because each guarantee above is a few lines of the same delivery path (decode,
handle, publish, ack or nak or dead-letter), which reads best in order; the handler registry is
sdk.py and deferred answers are answers.py.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import structlog
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.security import NatsNKey
from faststream.security import BaseSecurity
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from schemas import subjects
from schemas.messages import Actor, Envelope, StepOutcome, StepRequest, StepResult
from services.bus.codec import decode
from services.bus.connection import ANONYMOUS, BusLogin
from services.bus.dead_letters import letter_headers
from services.bus.heartbeats import Activity
from services.bus.permissions import inbox_prefix
from services.bus.publishing import publish
from services.bus.topology import ADAPTER_ACK_WAIT, ADAPTER_BACKOFF, ADAPTER_MAX_DELIVER
from services.bus.tracing import tracer, tracer_provider
from services.errors import StepRefused, Unprocessable

from .answers import message_id
from .deferred import Accepted
from .ready_pull import bind_ready_pull
from .sdk import EntityAdapter, ServiceHandler

log = structlog.get_logger(__name__)

# Requests in flight at once in one adapter process: the back office works on them concurrently.
CONCURRENCY = 64
# How long a pull waits for a first request (the rest of a pull is what is already waiting).
PULL_WAIT = 1.0
RETRYABLE = (NatsTimeout, NoRespondersError, ServiceUnavailableError, asyncio.TimeoutError)


@dataclass(frozen=True)
class Retry:
    """Nak the request: it is delivered again after `delay` seconds."""

    delay: float


class AdapterRunner:
    """One entity adapter and its back office on a FastStream broker."""

    def __init__(
        self,
        adapter: EntityAdapter[Any],
        back_office: Any,
        broker: NatsBroker,
        login: BusLogin = ANONYMOUS,
        activity: Activity | None = None,
    ) -> None:
        self.activity = activity or Activity()  # what the adapter's heartbeats report
        self.adapter = adapter
        self.back_office = back_office
        self.broker = broker
        self.actor = Actor(kind="entity", id=adapter.entity)
        # Results and dead letters go out through nats-py's JetStream publish once connected:
        # FastStream's publish pipeline cost more CPU than the whole rest of a request (see
        # docs/benchmarks.md). Without a connection (the in-memory test broker) they go through
        # the broker, so in-memory tests see them.
        self._js: JetStreamContext | None = None
        subscriber = broker.subscriber(
            subjects.entity_work(adapter.entity),
            stream=JStream(subjects.WORK_STREAM, declare=False),
            durable=subjects.adapter_consumer(adapter.entity),
            # Pulled by ready_pull.py, which takes what is already waiting, never more than the
            # free workers of CONCURRENCY (so PullSub's batch size is unused).
            pull_sub=PullSub(timeout=PULL_WAIT),
            max_workers=CONCURRENCY,
            # FastStream would pull into `_INBOX.`, which only the entity's own inbox may read.
            inbox_prefix=f"{inbox_prefix(login.user) if login.user else '_INBOX'}.".encode(),
            ack_policy=AckPolicy.MANUAL,
            no_reply=True,
            # The handler reads the raw message itself: no JSON decoding or dependency
            # injection per message (they cost more than the rest of a request).
            decoder=_the_message_itself,
            title=f"adapter-{adapter.entity}",
        )
        subscriber(self.handle)
        # The in-memory test broker hands messages to the handler directly and never pulls.
        bind_ready_pull(subscriber, PULL_WAIT)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then let the requests in flight finish."""
        await self.broker.connect()
        self._js = self.broker.connection.jetstream()
        try:
            await self._wait_for_consumer(stop)
            if stop.is_set():
                return
            await self.broker.start()
            log.info("adapter consuming", entity=self.adapter.entity)
            await stop.wait()
        finally:
            await self.broker.stop()  # waits for the handlers in flight (graceful_timeout)

    async def _wait_for_consumer(self, stop: asyncio.Event) -> None:
        """Bind only: until the bus owner has made this entity's consumer."""
        js = self.broker.connection.jetstream()
        consumer = subjects.adapter_consumer(self.adapter.entity)
        while not stop.is_set():
            try:
                await js.consumer_info(subjects.WORK_STREAM, consumer)
                return
            except Exception as exc:  # the server restarts, or the owner has not created it
                log.warning("adapter consumer unavailable", consumer=consumer, error=repr(exc))
            try:
                async with asyncio.timeout(1.0):
                    await stop.wait()
            except TimeoutError:
                pass

    async def handle(self, message: NatsMessage) -> None:
        self.activity.touch()
        raw: Msg = message.raw_message
        try:
            request, bound, typed = self._read(raw.data)
        except Unprocessable as exc:
            log.warning("dead letter", entity=self.adapter.entity, reason=str(exc))
            msg_id, headers = letter_headers(raw, str(exc))
            await self._publish(
                subjects.dead_letter(self.adapter.entity), raw.data, msg_id, headers
            )
            await message.ack()
            return
        with tracer().start_as_current_span(
            f"{request.entity}.{request.service}",
            attributes={
                "ventanilla.case_id": str(request.envelope.case_id),
                "ventanilla.attempt": request.attempt,
            },
        ):
            answer = await self._answer(request, bound, typed, _deliveries(raw))
            if isinstance(answer, Retry):
                await message.nack(delay=answer.delay)
                return
            with tracer().start_as_current_span(
                f"result {request.entity}.{request.service}",
                kind=SpanKind.PRODUCER,
                attributes={"ventanilla.outcome": answer.outcome},
            ):
                await self._publish(
                    subjects.result(request.entity, request.service, request.envelope.case_id),
                    answer.model_dump_json().encode(),
                    message_id(request.attempt_id, answer.outcome),
                )
        await message.ack()
        log.debug("step answered", service=request.service, outcome=answer.outcome)

    def _read(self, data: bytes) -> tuple[StepRequest, ServiceHandler[Any], Any]:
        request = decode(StepRequest, data)
        if request.entity != self.adapter.entity:
            raise Unprocessable(f"request for entity {request.entity!r} on another entity's queue")
        bound = self.adapter.handler(request.service)
        if bound is None:
            raise Unprocessable(f"{self.adapter.entity} offers no service {request.service!r}")
        try:
            typed = bound.contract.request.model_validate(request.payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise Unprocessable(
                f"invalid {request.service} request: {where}: {first['msg']}"
            ) from None
        return request, bound, typed

    async def _answer(
        self, request: StepRequest, bound: ServiceHandler[Any], typed: Any, delivered: int
    ) -> StepResult | Retry:
        try:
            # Answer well before the consumer's ack wait, or the request is delivered twice.
            with tracer().start_as_current_span(
                f"back-office {request.entity}.{request.service}", kind=SpanKind.CLIENT
            ):
                async with asyncio.timeout(ADAPTER_ACK_WAIT * 0.8):
                    returned = await bound.call(typed, self.back_office)
        except StepRefused as exc:
            return self.result(request, "rejected", reason=exc.reason)
        except Exception as exc:
            if delivered < ADAPTER_MAX_DELIVER:
                log.warning(
                    "back office failed, will retry",
                    case_id=str(request.envelope.case_id),
                    service=request.service,
                    delivery=delivered,
                    error=type(exc).__name__,
                )
                return Retry(ADAPTER_BACKOFF[min(delivered, len(ADAPTER_BACKOFF)) - 1])
            return self.result(
                request, "failed", reason=f"{type(exc).__name__} after {delivered} deliveries"
            )
        return self.answer_of(request, bound, returned)

    def answer_of(
        self, request: StepRequest, bound: ServiceHandler[Any], returned: object
    ) -> StepResult:
        """The one place where what a handler returned becomes the result published for it."""
        if isinstance(returned, bound.contract.result):
            return self.result(request, "completed", data=returned.model_dump(mode="json"))
        if isinstance(returned, Accepted):  # a deferred answer: the final one comes later
            return self.result(request, "accepted", expected_by=returned.expected_by)
        return self.result(request, "failed", reason=f"handler returned {type(returned).__name__}")

    def result(
        self,
        request: StepRequest,
        outcome: StepOutcome,
        *,
        data: dict[str, Any] | None = None,
        reason: str | None = None,
        expected_by: datetime | None = None,
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
            data=data or {},
            reason=reason,
            expected_by=expected_by,
        )

    async def _publish(
        self,
        subject: str,
        payload: bytes,
        msg_id: str,
        headers: dict[str, str] | None = None,
        give_up_after: float = 60.0,
    ) -> None:
        """Publish until the stream acknowledges, retrying a timeout with the same msg id."""
        if self._js is not None:
            await publish(self._js, subject, payload, msg_id=msg_id, headers=headers)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + give_up_after
        pause = 0.05
        while True:
            try:
                await self.broker.publish(
                    payload,
                    subject,
                    headers={"Nats-Msg-Id": msg_id, **(headers or {})},
                    stream=subject_stream(subject),
                    timeout=5.0,
                )
                return
            except RETRYABLE as exc:
                if loop.time() + pause > deadline:
                    raise
                log.warning("publish retry", subject=subject, error=type(exc).__name__)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)


async def _the_message_itself(message: NatsMessage) -> NatsMessage:
    return message


def subject_stream(subject: str) -> str:
    if subject.startswith(f"{subjects.PREFIX}.result."):
        return subjects.RESULTS_STREAM
    return subjects.DEAD_LETTERS_STREAM


def _deliveries(raw: Msg) -> int:
    try:
        return int(raw.metadata.num_delivered)
    except Exception:  # no JetStream metadata: an in-memory test broker delivers once
        return 1


def adapter_broker(nats_url: str, entity: str, login: BusLogin = ANONYMOUS) -> NatsBroker:
    """The entity's broker: its own bus user, reply inbox, reconnects forever, traced."""
    security: BaseSecurity | None = None
    if login.nkey_seed is not None:
        security = NatsNKey(login.nkey_seed, ssl_context=login.tls_context())
    elif login.tls_ca is not None:
        security = BaseSecurity(ssl_context=login.tls_context())
    return NatsBroker(
        [u.strip() for u in nats_url.split(",") if u.strip()],
        name=f"ventanilla-adapter-{entity}",
        security=security,
        inbox_prefix=inbox_prefix(login.user) if login.user else "_INBOX",
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,  # type: ignore[arg-type]  # seconds; typed int upstream
        middlewares=[
            NatsTelemetryMiddleware(
                tracer_provider=tracer_provider(), include_messages_counters=False
            )
        ],
        graceful_timeout=10.0,
        # FastStream's own log line per message costs more than the work of a fake back office.
        logger=None,
        apply_types=False,
    )
