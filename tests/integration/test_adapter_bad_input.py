"""An adapter's handler that misbehaves, and an adapter started before its consumer exists.

On a real nats-server: a handler that raises, hangs past its time or returns another model
never loses its request and never holds up the requests behind it; each ends as a `failed`
result whose reason says what happened, and the work queue is left empty. A message that is
not even JSON goes to the dead letters with its reason. An adapter whose consumer the bus owner
has not made yet waits for it and creates nothing.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import cast

import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.entities.reniec import DUPLICADO_DNI, DniDuplicateIssued, DniDuplicateRequest
from schemas.entities.sat import NoDebtCertificate
from services.bus.publishing import publish
from services.bus.topology import adapter_consumer_config, ensure_adapter_consumer
from services.entity_adapters import runner as runner_module
from services.entity_adapters.runner import AdapterRunner, adapter_broker
from services.entity_adapters.sdk import EntityAdapter, handle
from services.stack.natsd import EmbeddedNats
from tests.adapter_requests import duplicate_request, results_for

pytestmark = pytest.mark.integration

# What the misbehaving handler does, chosen by the request's payment receipt.
HANGS, RAISES, WRONG_MODEL = "BN-HANGS", "BN-RAISES", "BN-WRONG"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def misbehaving(req: DniDuplicateRequest, office: object) -> DniDuplicateIssued:
    if req.payment_receipt == HANGS:
        await asyncio.sleep(3600)
    if req.payment_receipt == RAISES:
        raise RuntimeError("the back office's library crashed")
    if req.payment_receipt == WRONG_MODEL:
        wrong = NoDebtCertificate(certificate_number="X", plate="ABC-123", issued_at=NOW)
        return cast(DniDuplicateIssued, wrong)  # what code mypy never saw could do
    return DniDuplicateIssued(card_serial="DNI-1", pickup_date=date(2026, 1, 2))


ADAPTER = EntityAdapter("reniec", handlers=(handle(DUPLICADO_DNI, misbehaving),))


@asynccontextmanager
async def running(nats_url: str) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        AdapterRunner(ADAPTER, object(), adapter_broker(nats_url, "reniec")).run(stop)
    )
    try:
        yield
    finally:
        stop.set()
        await task


async def test_a_handler_that_raises_hangs_or_answers_another_model_blocks_nothing(
    js: JetStreamContext, nats_server: EmbeddedNats, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shorter than production (30 s ack wait, 5 deliveries, pauses up to 10 s) so the test ends
    # in seconds; the delivery path is the same.
    monkeypatch.setattr(runner_module, "ADAPTER_ACK_WAIT", 2.0)
    monkeypatch.setattr(runner_module, "ADAPTER_MAX_DELIVER", 2)
    monkeypatch.setattr(runner_module, "ADAPTER_BACKOFF", (0.2,))
    bad = {receipt: duplicate_request("40000001") for receipt in (HANGS, RAISES, WRONG_MODEL)}
    for receipt, request in bad.items():
        bad[receipt] = request.model_copy(
            update={"payload": {**request.payload, "payment_receipt": receipt}}
        )
    good = duplicate_request("40000001")
    async with running(nats_server.url):
        for n, request in enumerate([*bad.values(), good]):
            await publish(js, subjects.work("reniec", "duplicado-dni"), request, msg_id=f"r{n}")
        started = time.monotonic()
        [answered] = await results_for(js, good.attempt_id, count=1)
        # Served while the hanging handler still runs (it is given 1.6 s a delivery).
        assert time.monotonic() - started < 1.5
        assert answered.outcome == "completed"

        [hung] = await results_for(js, bad[HANGS].attempt_id, count=4)
        [crashed] = await results_for(js, bad[RAISES].attempt_id, count=4)
        [wrong] = await results_for(js, bad[WRONG_MODEL].attempt_id, count=4)
        await asyncio.sleep(0.5)  # a second answer to any of them, if any, would arrive now
        assert (await js.stream_info(subjects.RESULTS_STREAM)).state.messages == 4
    assert (hung.outcome, hung.reason) == ("failed", "TimeoutError after 2 deliveries")
    assert (crashed.outcome, crashed.reason) == ("failed", "RuntimeError after 2 deliveries")
    assert (wrong.outcome, wrong.reason) == ("failed", "handler returned NoDebtCertificate")
    assert (await js.stream_info(subjects.WORK_STREAM)).state.messages == 0


async def test_a_message_that_is_not_json_is_dead_lettered_and_the_next_is_served(
    js: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    good = duplicate_request("40000001")
    async with running(nats_server.url):
        await publish(js, subjects.work("reniec", "duplicado-dni"), b"\xff{not json", msg_id="x")
        await publish(js, subjects.work("reniec", "duplicado-dni"), good, msg_id="good")
        [result] = await results_for(js, good.attempt_id, count=1)
    assert result.outcome == "completed"
    letter = await js.get_last_msg(subjects.DEAD_LETTERS_STREAM, subjects.dead_letter("reniec"))
    assert letter.data == b"\xff{not json"
    assert letter.headers is not None
    assert letter.headers[subjects.HEADER_DEAD_LETTER_REASON]
    assert (await js.stream_info(subjects.WORK_STREAM)).state.messages == 0


async def test_an_adapter_waits_for_the_owners_consumer_and_creates_nothing(
    js: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    consumer = subjects.adapter_consumer("reniec")
    await js.delete_consumer(subjects.WORK_STREAM, consumer)
    stream_before = (await js.stream_info(subjects.WORK_STREAM)).config
    request = duplicate_request("40000001")
    await publish(js, subjects.work("reniec", "duplicado-dni"), request, msg_id="early")
    async with running(nats_server.url):
        await asyncio.sleep(2.5)  # the adapter has looked for its consumer more than once
        with pytest.raises(NotFoundError):
            await js.consumer_info(subjects.WORK_STREAM, consumer)
        assert (await js.stream_info(subjects.WORK_STREAM)).config == stream_before
        assert (await js.stream_info(subjects.RESULTS_STREAM)).state.messages == 0

        await ensure_adapter_consumer(js, "reniec")  # the bus owner makes it
        [result] = await results_for(js, request.attempt_id, count=1)
    assert result.outcome == "completed"
    info = await js.consumer_info(subjects.WORK_STREAM, consumer)
    made = adapter_consumer_config("reniec")
    assert (info.config.ack_wait, info.config.max_deliver) == (made.ack_wait, made.max_deliver)
