"""An entity adapter on its durable consumer: retries with backoff, one result, one effect."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from nats.js import JetStreamContext

from schemas import subjects
from services.bus.publishing import publish
from services.bus.topology import ADAPTER_BACKOFF
from services.entity_adapters import reniec
from services.entity_adapters.backoffices.effects import EffectLog
from services.entity_adapters.backoffices.reniec import DuplicateCard, FakeReniec
from services.entity_adapters.runner import CONCURRENCY, AdapterRunner, adapter_broker
from services.errors import BackOfficeUnavailable
from services.stack.natsd import EmbeddedNats
from tests.adapter_requests import duplicate_request, results_for, results_for_all

pytestmark = pytest.mark.integration


class FlakyReniec(FakeReniec):
    """RENIEC's registry that times out on the first calls, as a real one sometimes does."""

    def __init__(self, effects: EffectLog, failures: int) -> None:
        super().__init__(effects)
        self.failures = failures
        self.calls = 0
        self.attempts: list[tuple[float, str]] = []  # when each call came, with which key

    async def issue_duplicate(
        self, document_number: str, reason: str, payment_receipt: str, idempotency_key: str
    ) -> DuplicateCard:
        self.calls += 1
        self.attempts.append((time.monotonic(), idempotency_key))
        if self.calls <= self.failures:
            raise BackOfficeUnavailable("registry timed out")
        return await super().issue_duplicate(
            document_number, reason, payment_receipt, idempotency_key
        )


@asynccontextmanager
async def running_adapter(nats_url: str, back_office: FakeReniec) -> AsyncIterator[None]:
    stop = asyncio.Event()
    broker = adapter_broker(nats_url, "reniec")
    task = asyncio.create_task(AdapterRunner(reniec.adapter, back_office, broker).run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def test_a_transient_failure_is_retried_and_answered_once(
    js: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    effects = EffectLog()
    registry = FlakyReniec(effects, failures=2)
    async with running_adapter(nats_server.url, registry):
        request = duplicate_request("40000001")
        await publish(js, subjects.work("reniec", "duplicado-dni"), request, msg_id="req-1")

        [result] = await results_for(js, request.attempt_id, count=1)
        await asyncio.sleep(0.5)  # a second answer, if any, would arrive now
        assert len(await results_for(js, request.attempt_id, count=1)) == 1
    assert result.outcome == "completed"
    assert result.data["card_serial"].startswith("DNI-")
    assert result.envelope.causation_id == request.envelope.message_id
    assert registry.calls == 3
    # Every attempt carries the same idempotency key, the step's operation id ...
    assert {key for _, key in registry.attempts} == {request.payload["operation_id"]}
    # ... and each retry comes after a longer pause than the one before (nak with delay).
    (t1, _), (t2, _), (t3, _) = registry.attempts
    assert ADAPTER_BACKOFF[0] <= t2 - t1 < ADAPTER_BACKOFF[1] <= t3 - t2
    assert effects.count("dni-duplicate-issued") == 1
    # Acked after the result was stored: nothing left on the work queue.
    assert (await js.stream_info(subjects.WORK_STREAM)).state.messages == 0


async def test_a_refusal_is_a_final_rejected_answer(
    js: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    effects = EffectLog()
    async with running_adapter(nats_server.url, FakeReniec(effects)):
        request = duplicate_request("40000002")
        await publish(js, subjects.work("reniec", "duplicado-dni"), request, msg_id="req-2")
        [result] = await results_for(js, request.attempt_id, count=1)
    assert result.outcome == "rejected"
    assert result.reason == "RENIEC has no record of this DNI"
    assert effects.count("dni-duplicate-issued") == 0


async def test_a_request_on_the_wrong_entity_is_dead_lettered_and_the_next_is_served(
    js: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    async with running_adapter(nats_server.url, FakeReniec(EffectLog())):
        misrouted = duplicate_request("40000001").model_copy(update={"entity": "sunarp"})
        await publish(js, subjects.work("reniec", "duplicado-dni"), misrouted, msg_id="req-3")
        good = duplicate_request("40000001")
        await publish(js, subjects.work("reniec", "duplicado-dni"), good, msg_id="req-4")

        [result] = await results_for(js, good.attempt_id, count=1)
    assert result.outcome == "completed"
    letter = await js.get_last_msg(subjects.DEAD_LETTERS_STREAM, subjects.dead_letter("reniec"))
    assert "another entity's queue" in letter.headers[subjects.HEADER_DEAD_LETTER_REASON]
    assert (await js.stream_info(subjects.WORK_STREAM)).state.messages == 0


class GatedReniec(FakeReniec):
    """RENIEC's registry that holds every call until the test opens the gate."""

    def __init__(self, effects: EffectLog) -> None:
        super().__init__(effects)
        self.gate = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0

    async def issue_duplicate(
        self, document_number: str, reason: str, payment_receipt: str, idempotency_key: str
    ) -> DuplicateCard:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.gate.wait()
            return await super().issue_duplicate(
                document_number, reason, payment_receipt, idempotency_key
            )
        finally:
            self.in_flight -= 1


async def test_a_backlog_is_answered_once_each_and_never_pulled_beyond_the_free_workers(
    js: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    backlog = 3 * CONCURRENCY
    requests = [duplicate_request("40000001") for _ in range(backlog)]
    for n, request in enumerate(requests):
        await publish(js, subjects.work("reniec", "duplicado-dni"), request, msg_id=f"b-{n}")
    effects = EffectLog()
    registry = GatedReniec(effects)
    consumer = subjects.adapter_consumer("reniec")
    async with running_adapter(nats_server.url, registry):
        async with asyncio.timeout(20):
            while registry.in_flight < CONCURRENCY:
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # what the adapter would pull beyond its workers, it has now
        info = await js.consumer_info(subjects.WORK_STREAM, consumer)
        # Delivered and not answered: the workers' requests and nothing else. A request pulled
        # to wait behind slow ones would run down its ack wait.
        assert info.num_ack_pending == CONCURRENCY
        registry.gate.set()
        results = await results_for_all(js, backlog)
    assert sorted(str(r.attempt_id) for r in results) == sorted(str(r.attempt_id) for r in requests)
    assert all(r.outcome == "completed" for r in results)
    assert effects.count("dni-duplicate-issued") == backlog
    assert registry.most_in_flight == CONCURRENCY
    info = await js.consumer_info(subjects.WORK_STREAM, consumer)
    assert info.num_ack_pending == 0
    assert info.num_redelivered == 0
