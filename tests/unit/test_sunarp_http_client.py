"""The SUNARP adapter's HTTP client: what it retries, what it sends on every try, when it gives up.

The back office is the real HTTP app (`sunarp_service.create_app`) behind a transport that can
lose requests or answers first, the way a network or a crashing server does.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from services.entity_adapters.backoffices.effects import EffectLog
from services.entity_adapters.backoffices.sunarp import FakeSunarp
from services.entity_adapters.backoffices.sunarp_http import HttpSunarp
from services.entity_adapters.backoffices.sunarp_service import create_app
from services.entity_adapters.sunarp import PendingFiling
from services.errors import BackOfficeUnavailable

KEY = "7f0c1a52-0000-4000-8000-000000000001"
Fault = Callable[[httpx.Request, int], httpx.Response | None]


class FaultyNetwork(httpx.AsyncBaseTransport):
    """Passes requests to the app, after `fault(request, try number)` had its say."""

    def __init__(
        self, effects: EffectLog, fault: Fault, registry: FakeSunarp | None = None
    ) -> None:
        self.app = httpx.ASGITransport(app=create_app(registry or FakeSunarp(effects)))
        self.fault = fault
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.fault(request, len(self.seen))
        if answer is not None:
            return answer
        return await self.app.handle_async_request(request)


def client(network: FaultyNetwork, give_up_after: float = 5.0) -> HttpSunarp:
    return HttpSunarp("http://sunarp.test", transport=network, give_up_after=give_up_after)


async def register(sunarp: HttpSunarp, buyer: str = "40000001") -> object:
    return await sunarp.register_transfer("ABC-123", "40000007", buyer, KEY, "ref")


async def test_an_answer_lost_after_the_effect_is_retried_and_gets_the_original_result() -> None:
    effects = EffectLog()
    first_answer: list[httpx.Response] = []

    class LosesFirstAnswer(FaultyNetwork):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.seen.append(request)
            response = await self.app.handle_async_request(request)
            if len(self.seen) == 1:  # the registry acted; its answer never arrives
                await response.aread()
                first_answer.append(response)
                raise httpx.ReadTimeout("timed out", request=request)
            return response

    network = LosesFirstAnswer(effects, lambda r, n: None)
    registration = await register(client(network))

    assert effects.count("transfer-registered") == 1
    assert first_answer[0].json()["number"] == getattr(registration, "number", None)
    assert [r.headers["Idempotency-Key"] for r in network.seen] == [KEY, KEY]


def unavailable_twice(request: httpx.Request, attempt: int) -> httpx.Response | None:
    return httpx.Response(503) if attempt < 3 else None


def bad_gateway_once(request: httpx.Request, attempt: int) -> httpx.Response | None:
    return httpx.Response(502) if attempt == 1 else None


def refused_twice(request: httpx.Request, attempt: int) -> httpx.Response | None:
    if attempt < 3:  # the service is restarting: nothing listens on its port
        raise httpx.ConnectError("connection refused", request=request)
    return None


@pytest.mark.parametrize("fault", [unavailable_twice, bad_gateway_once, refused_twice])
async def test_5xx_and_refused_connections_are_retried_with_the_same_key(fault: Fault) -> None:
    effects = EffectLog()
    network = FaultyNetwork(effects, fault)

    registration = await register(client(network))

    assert getattr(registration, "number", "").startswith("TIT-")
    assert effects.count("transfer-registered") == 1
    assert {r.headers["Idempotency-Key"] for r in network.seen} == {KEY}
    assert len(network.seen) > 1


async def test_a_flaky_registry_answering_503_after_acting_registers_once() -> None:
    effects = EffectLog()
    network = FaultyNetwork(effects, lambda r, n: None)

    registration = await register(client(network), buyer="40000006")

    assert getattr(registration, "number", "").startswith("TIT-")
    assert effects.count("transfer-registered") == 1
    assert len(network.seen) == 3  # 503, 503, then the original result


async def test_a_back_office_that_stays_down_is_reported_unavailable() -> None:
    network = FaultyNetwork(EffectLog(), lambda r, n: httpx.Response(500))

    with pytest.raises(BackOfficeUnavailable, match="HTTP 500"):
        await register(client(network, give_up_after=0.5))
    assert len(network.seen) >= 2


async def test_a_4xx_is_not_retried() -> None:
    network = FaultyNetwork(EffectLog(), lambda r, n: httpx.Response(422, json={}))

    with pytest.raises(httpx.HTTPStatusError):
        await register(client(network))
    assert len(network.seen) == 1


async def test_a_transfer_decided_later_is_listed_until_its_answer_was_sent() -> None:
    effects = EffectLog()
    registry = FakeSunarp(effects, decision_delay=timedelta(seconds=0.3))
    sunarp = client(FaultyNetwork(effects, no_fault, registry))

    filing = await sunarp.register_transfer("ABC-123", "40000007", "40000008", KEY, "attempt-1")
    assert isinstance(filing, PendingFiling)
    assert await sunarp.decided_transfers() == []
    # Asked again under the same key (the step's next attempt): still pending, same decision
    # time, and the answer will go to the attempt that asked last.
    again = await sunarp.register_transfer("ABC-123", "40000007", "40000008", KEY, "attempt-2")
    assert again == filing
    assert effects.count("transfer-registered") == 0

    await asyncio.sleep(0.4)
    [decided] = await sunarp.decided_transfers()
    assert (decided.idempotency_key, decided.reference) == (KEY, "attempt-2")
    assert await sunarp.decided_transfers() == [decided]  # until the answer is sent
    await sunarp.answer_sent(KEY)
    assert await sunarp.decided_transfers() == []

    late_ask = await sunarp.register_transfer("ABC-123", "40000007", "40000008", KEY, "attempt-3")
    assert getattr(late_ask, "number", None) == decided.number
    assert effects.count("transfer-registered") == 1


def no_fault(request: httpx.Request, attempt: int) -> httpx.Response | None:
    return None
