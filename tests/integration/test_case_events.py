"""Following a case live, on a real nats-server: one KV watch per gateway, fanned out to SSE."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from schemas import subjects
from schemas.views import CaseView
from services.bus.connection import connect
from services.case_ledger.store import LedgerStore
from services.credentials import Principal
from services.datadir import DataDir
from services.gateway import main as gateway_main
from services.gateway.status_kv import KvCaseStatusFeed
from services.stack.natsd import EmbeddedNats
from services.stack.ports import free_port
from tests.factories import submit_command
from tests.http import auth, body, write_tokens
from tests.integration.stack import LocalStack, local_stack, submit

pytestmark = pytest.mark.integration

COUNTER, KIOSK = "mac-lima-norte", "mac-express-pias-napo"
TOKENS = {
    "counter-token": Principal(kind="channel", id=COUNTER),
    "kiosk-token": Principal(kind="channel", id=KIOSK),
    "auditor-token": Principal(kind="auditor", id="auditor"),
}
# Without RENIEC's adapter a duplicado-dni case stops, in progress, after the fee is paid.
ALL_BUT_RENIEC = ("banco-nacion", "sat", "sunarp", "migraciones", "sunat")


@asynccontextmanager
async def status_feed(nats_url: str) -> AsyncIterator[KvCaseStatusFeed]:
    nc = await connect(nats_url, "test-gateway-feed")
    feed = KvCaseStatusFeed(nc, check_every=0.5)
    await feed.start()
    try:
        async with asyncio.timeout(10):
            await feed.watching.wait()
        yield feed
    finally:
        await feed.close()
        await nc.drain()


async def follow(feed: KvCaseStatusFeed, case_id: UUID) -> list[CaseView]:
    return [view async for view in feed.updates(case_id)]


async def until_step(stack: LocalStack, case_id: UUID, service: str, status: str) -> None:
    async with asyncio.timeout(30):
        while True:
            with stack.reading() as ledger:
                if ledger.is_recorded(case_id):
                    steps = {s.service: s.status for s in ledger.case_view(case_id).steps}
                    if steps.get(service) == status:
                        return
            await asyncio.sleep(0.05)


async def test_one_watch_serves_many_followers_of_many_cases(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with (
        status_feed(nats_server.url) as feed,
        local_stack(sqlite_store, nats_server.url, ledger=False) as stack,
    ):
        case_ids = [await submit(js, submit_command(dni)) for dni in ("40000001", "40000002")]
        # 30 followers (tabs of the counter and citizen pages) before the ledger moves.
        followers = [asyncio.create_task(follow(feed, case_ids[i % 2])) for i in range(30)]
        async with asyncio.timeout(5):
            while feed.followers < 30:
                await asyncio.sleep(0.01)
        stack.start_ledger()
        async with asyncio.timeout(30):
            seen = await asyncio.gather(*followers)
        consumers = (
            await js.stream_info(subjects.kv_stream(subjects.STATUS_BUCKET))
        ).state.consumer_count
        with stack.reading() as ledger:
            final = [ledger.case_view(c) for c in case_ids]

    assert consumers == 1  # one watch on the server for every follower of this gateway
    assert feed.watches_started == 1
    assert feed.followers == 0  # each one let go at the end of its case
    for i, views in enumerate(seen):
        assert views[-1] == final[i % 2]  # completed for 40000001, rejected for 40000002
        versions = [v.version for v in views]
        assert versions == sorted(set(versions)), versions  # only forwards
    assert [v.status for v in final] == ["completed", "rejected"]


async def test_the_watch_is_recreated_after_the_nats_server_restarts_on_its_store(
    nc: Client, js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with (
        status_feed(nats_server.url) as feed,
        local_stack(sqlite_store, nats_server.url, entities=ALL_BUT_RENIEC) as stack,
    ):
        case_id = await submit(js, submit_command("40000001"))
        await until_step(stack, case_id, "pago-tasa", "completed")
        views: list[CaseView] = []

        async def collect() -> None:
            async for view in feed.updates(case_id):
                views.append(view)

        following = asyncio.create_task(collect())
        async with asyncio.timeout(10):
            while not views or views[-1].status != "in_progress":
                await asyncio.sleep(0.02)

        nats_server.stop()
        nats_server.start()
        async with asyncio.timeout(30):
            while feed.watches_started < 2 or not feed.watching.is_set():
                await asyncio.sleep(0.05)
        # Only now does RENIEC answer: the completion can only come through the new watch.
        stack.start_adapters(["reniec"])
        async with asyncio.timeout(30):
            await following
            while not nc.is_connected:  # the test's own client, back for its teardown
                await asyncio.sleep(0.05)

    assert views[-1].status == "completed"
    assert [v.version for v in views] == sorted({v.version for v in views})


# --- over HTTP, the gateway process as it runs ---------------------------------------------


@asynccontextmanager
async def gateway(nats_url: str, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    data = DataDir(data_dir)
    write_tokens(data.gateway_tokens, TOKENS)
    port = free_port("127.0.0.1")
    stop = asyncio.Event()
    serving = asyncio.create_task(gateway_main.run(data, nats_url, "127.0.0.1", port, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            async with asyncio.timeout(15):
                while True:
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
            yield http
    finally:
        stop.set()
        async with asyncio.timeout(15):
            await serving


async def sse_events(
    response: httpx.Response, until: int | None = None
) -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """(id, view) of each `case` event, as a browser's EventSource reads them."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields.get("event") == "case":
                yield int(fields["id"]), json.loads(fields["data"])
            fields = {}
        elif not line.startswith(":") and ":" in line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def test_a_client_follows_a_case_over_sse_and_resumes_from_its_last_event_id(
    nats_server: EmbeddedNats, sqlite_store: LedgerStore, tmp_path: Path
) -> None:
    async with (
        local_stack(sqlite_store, nats_server.url, entities=ALL_BUT_RENIEC) as stack,
        gateway(nats_server.url, tmp_path / "var") as http,
    ):
        accepted = await http.post("/v1/cases", json=body(), headers=auth("counter-token", "k1"))
        case_id = accepted.json()["case_id"]
        await until_step(stack, UUID(case_id), "pago-tasa", "completed")
        url = f"/v1/cases/{case_id}/events"

        async with http.stream("GET", url, headers=auth("counter-token")) as first:
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("text/event-stream")
            # The page is closed (or the link drops) after the first event.
            seen_id, seen = await anext(aiter(sse_events(first)))
        assert seen["status"] == "in_progress"
        assert seen_id == seen["version"]

        # Back with the id of an older event: the current state first, then what follows.
        resumed: list[tuple[int, dict[str, Any]]] = []
        headers = {**auth("counter-token"), "Last-Event-ID": str(seen_id - 1)}
        async with http.stream("GET", url, headers=headers) as again:

            async def read() -> None:
                async for item in sse_events(again):
                    resumed.append(item)

            reading = asyncio.create_task(read())
            async with asyncio.timeout(10):
                while not resumed:
                    await asyncio.sleep(0.02)
            stack.start_adapters(["reniec"])
            async with asyncio.timeout(30):
                await reading  # the stream ends with the case

        other_channel = await http.get(url, headers=auth("kiosk-token"))
        async with http.stream("GET", url, headers=auth("auditor-token")) as auditor:
            audited = [item async for item in sse_events(auditor)]
        ended = {**auth("counter-token"), "Last-Event-ID": str(resumed[-1][0])}
        after_the_end = await http.get(url, headers=ended)

    assert resumed[0] == (seen_id, seen)  # the current state, though the client had seen it
    assert resumed[-1][1]["status"] == "completed"
    assert [i for i, _ in resumed] == sorted({i for i, _ in resumed})
    assert all(i == view["version"] for i, view in resumed)
    assert other_channel.status_code == 404  # scoped like GET /v1/cases/{id}
    assert audited == [resumed[-1]]  # an ended case: its final state, and the stream ends
    assert after_the_end.status_code == 204  # tells EventSource to stop reconnecting


async def test_a_case_claimed_but_not_yet_recorded_streams_submitted_then_its_progress(
    nats_server: EmbeddedNats, sqlite_store: LedgerStore, tmp_path: Path
) -> None:
    async with (
        local_stack(sqlite_store, nats_server.url, ledger=False) as stack,
        gateway(nats_server.url, tmp_path / "var") as http,
    ):
        accepted = await http.post("/v1/cases", json=body(), headers=auth("counter-token", "k2"))
        case_id = accepted.json()["case_id"]
        events: list[tuple[int, dict[str, Any]]] = []
        url = f"/v1/cases/{case_id}/events"
        async with http.stream("GET", url, headers=auth("counter-token")) as stream:

            async def read() -> None:
                async for item in sse_events(stream):
                    events.append(item)

            reading = asyncio.create_task(read())
            async with asyncio.timeout(10):
                while not events:
                    await asyncio.sleep(0.02)
            stack.start_ledger()
            async with asyncio.timeout(30):
                await reading

    assert events[0][0] == 0  # from the claim: no version yet
    assert events[0][1]["status"] == "submitted"
    assert events[-1][1]["status"] == "completed"
    assert [i for i, _ in events] == sorted({i for i, _ in events})
