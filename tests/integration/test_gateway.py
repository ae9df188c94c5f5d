"""The gateway on a real nats-server with the real ledger and adapters: what a channel sees."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from schemas import subjects
from schemas.cases import case_id_for
from schemas.event_types import EventType
from schemas.queries import CaseAnswer, HistoryAnswer, ReadContext
from services.bus.topology import ensure_topology
from services.case_ledger.store import LedgerStore
from services.credentials import Principal
from services.datadir import DataDir
from services.gateway import main as gateway_main
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.nats_case_bus import NatsCaseBus
from services.stack.natsd import EmbeddedNats
from services.stack.ports import free_port
from tests.http import auth, body, write_tokens
from tests.integration.stack import local_stack

pytestmark = pytest.mark.integration

COUNTER, KIOSK = "mac-lima-norte", "mac-express-pias-napo"
TOKENS = {
    "counter-token": Principal(kind="channel", id=COUNTER),
    "kiosk-token": Principal(kind="channel", id=KIOSK),
    "auditor-token": Principal(kind="auditor", id="auditor"),
}


@pytest.fixture
async def client(
    nc: Client, js: JetStreamContext, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the real NatsCaseBus, with the bus topology in place (the `js` fixture)."""
    tokens = tmp_path / "tokens.json"
    write_tokens(tokens, TOKENS)
    app = create_app(NatsCaseBus(nc), TokenBook(tokens))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def until_ready(http: httpx.AsyncClient, within: float = 15.0) -> None:
    """The stack starts its tasks in the background: wait as a load balancer would."""
    async with asyncio.timeout(within):
        while (await http.get("/readyz")).status_code != 200:
            await asyncio.sleep(0.05)


async def until_final(http: httpx.AsyncClient, case_id: str, within: float = 30.0) -> Any:
    async with asyncio.timeout(within):
        while True:
            response = await http.get(f"/v1/cases/{case_id}", headers=auth("counter-token"))
            assert response.status_code == 200, response.text
            if response.json()["status"] in ("completed", "rejected"):
                return response.json()
            await asyncio.sleep(0.1)


async def test_a_case_submitted_over_http_completes_with_both_steps(
    client: httpx.AsyncClient, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url):
        await until_ready(client)
        accepted = await client.post("/v1/cases", json=body(), headers=auth("counter-token", "a1"))
        assert accepted.status_code == 202
        case_id = accepted.json()["case_id"]
        assert case_id == str(case_id_for(COUNTER, "a1"))
        assert accepted.headers["Location"] == f"/v1/cases/{case_id}"

        case = await until_final(client, case_id)
        history = await client.get(
            f"/v1/cases/{case_id}/history?purpose=control+interno", headers=auth("counter-token")
        )

    assert case["status"] == "completed"
    assert [(s["entity"], s["service"], s["status"]) for s in case["steps"]] == [
        ("banco-nacion", "pago-tasa", "completed"),
        ("reniec", "duplicado-dni", "completed"),
    ]
    assert all(s["dispatched_at"] and s["finished_at"] for s in case["steps"])
    assert history.status_code == 200
    [shared] = [e for e in history.json()["events"] if e["type"] == EventType.DATA_SHARED]
    assert shared["data"]["legal_basis"] == "DL 1211"
    assert (shared["data"]["from_entity"], shared["data"]["to_entity"]) == (
        "banco-nacion",
        "reniec",
    )


async def test_the_same_key_and_body_twice_open_one_case_and_another_body_conflicts(
    client: httpx.AsyncClient, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url):
        await until_ready(client)
        first = await client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))
        second = await client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))
        other = await client.post(
            "/v1/cases", json=body(reason="robo"), headers=auth("counter-token", "k")
        )
        case = await until_final(client, first.json()["case_id"])
        history = await client.get(
            f"/v1/cases/{case['case_id']}/history?purpose=control+interno",
            headers=auth("auditor-token"),
        )

    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    assert case["status"] == "completed"
    types = [e["type"] for e in history.json()["events"]]
    assert types.count(EventType.CASE_SUBMITTED) == 1
    assert types.count(EventType.CASE_COMPLETED) == 1


async def test_a_citizen_unknown_to_reniec_ends_rejected_with_the_reason(
    client: httpx.AsyncClient, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url):
        await until_ready(client)
        accepted = await client.post(
            "/v1/cases", json=body(dni="40000002"), headers=auth("counter-token", "r1")
        )
        case = await until_final(client, accepted.json()["case_id"])

    assert case["status"] == "rejected"
    assert "RENIEC" in (case["reason"] or "")


async def test_another_channel_sees_404_while_the_auditor_sees_the_case(
    client: httpx.AsyncClient, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url):
        await until_ready(client)
        accepted = await client.post("/v1/cases", json=body(), headers=auth("counter-token", "v"))
        case_id = accepted.json()["case_id"]
        await until_final(client, case_id)

        kiosk = await client.get(f"/v1/cases/{case_id}", headers=auth("kiosk-token"))
        kiosk_history = await client.get(
            f"/v1/cases/{case_id}/history?purpose=control+interno", headers=auth("kiosk-token")
        )
        auditor = await client.get(f"/v1/cases/{case_id}", headers=auth("auditor-token"))
        unknown = await client.get(f"/v1/cases/{uuid4()}", headers=auth("auditor-token"))

    assert kiosk.status_code == kiosk_history.status_code == 404
    assert auditor.status_code == 200
    assert auditor.json()["channel"] == COUNTER
    assert unknown.status_code == 404


async def test_a_claimed_case_reads_as_submitted_until_the_ledger_records_it(
    nc: Client, client: httpx.AsyncClient
) -> None:
    # A ledger that is up but has not consumed the command yet: it knows no case.
    async def not_yet(msg: Msg) -> None:
        answer = HistoryAnswer if msg.subject == subjects.LEDGER_QUERY_HISTORY else CaseAnswer
        await msg.respond(answer(found=False).model_dump_json().encode())

    subs = [
        await nc.subscribe(subjects.LEDGER_QUERY_CASE, cb=not_yet),
        await nc.subscribe(subjects.LEDGER_QUERY_HISTORY, cb=not_yet),
    ]
    await nc.flush()
    try:
        accepted = await client.post("/v1/cases", json=body(), headers=auth("counter-token", "s"))
        case_id = accepted.json()["case_id"]
        case = await client.get(f"/v1/cases/{case_id}", headers=auth("counter-token"))
        history = await client.get(
            f"/v1/cases/{case_id}/history?purpose=control+interno", headers=auth("auditor-token")
        )
        kiosk = await client.get(f"/v1/cases/{case_id}", headers=auth("kiosk-token"))
        never = await client.get(f"/v1/cases/{uuid4()}", headers=auth("auditor-token"))
    finally:
        for sub in subs:
            await sub.unsubscribe()

    assert accepted.status_code == 202
    assert case.status_code == 200
    assert (case.json()["status"], case.json()["steps"]) == ("submitted", [])
    assert case.json()["channel"] == COUNTER
    assert (history.status_code, history.json()["events"]) == (200, [])
    assert kiosk.status_code == 404
    assert never.status_code == 404


async def test_readiness_follows_the_ledger(
    client: httpx.AsyncClient, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    without_ledger = await client.get("/readyz")
    async with local_stack(sqlite_store, nats_server.url):
        async with asyncio.timeout(10):
            while (ready := await client.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.1)

    assert without_ledger.status_code == 503
    assert "ledger" in without_ledger.json()["detail"]
    assert ready.json() == {"status": "ok"}


async def test_nats_down_is_a_prompt_503(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    nc = await nats.connect(nats_server.url, name="gateway-test", max_reconnect_attempts=-1)
    await ensure_topology(nc.jetstream())
    write_tokens(tmp_path / "tokens.json", TOKENS)
    app = create_app(NatsCaseBus(nc), TokenBook(tmp_path / "tokens.json"))
    try:
        nats_server.stop()
        async with asyncio.timeout(5):
            while nc.is_connected:
                await asyncio.sleep(0.05)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            async with asyncio.timeout(3):  # an answer, not a hang
                submit = await http.post(
                    "/v1/cases", json=body(), headers=auth("counter-token", "down")
                )
                ready = await http.get("/readyz")
    finally:
        await nc.close()

    assert submit.status_code == ready.status_code == 503
    assert int(submit.headers["Retry-After"]) > 0
    assert "NATS" in ready.json()["detail"]


async def test_the_gateway_process_serves_http_and_stops_cleanly(
    nats_server: EmbeddedNats, sqlite_store: LedgerStore, tmp_path: Path
) -> None:
    data = DataDir(tmp_path / "var")
    write_tokens(data.gateway_tokens, TOKENS)
    port = free_port("127.0.0.1")
    stop = asyncio.Event()
    async with local_stack(sqlite_store, nats_server.url):
        serving = asyncio.create_task(
            gateway_main.run(data, nats_server.url, "127.0.0.1", port, stop)
        )
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            async with asyncio.timeout(15):
                while True:
                    try:
                        if (await http.get("/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
            accepted = await http.post("/v1/cases", json=body(), headers=auth("kiosk-token", "p"))
        stop.set()
        async with asyncio.timeout(10):
            await serving

    assert accepted.status_code == 202
    assert UUID(accepted.json()["case_id"]) == case_id_for(KIOSK, "p")


async def test_an_auditor_replays_a_case_over_http_from_the_ledger(
    client: httpx.AsyncClient, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url):
        await until_ready(client)
        accepted = await client.post("/v1/cases", json=body(), headers=auth("counter-token", "h"))
        case_id = accepted.json()["case_id"]
        await until_final(client, case_id)
        path = f"/v1/cases/{case_id}/history?purpose=control+interno"
        full = await client.get(path, headers=auth("auditor-token"))
        second = full.json()["events"][1]["occurred_at"]
        by_version = await client.get(
            path, params={"version": 2, "purpose": "control interno"}, headers=auth("auditor-token")
        )
        by_time = await client.get(
            path,
            params={"as_of": second, "purpose": "control interno"},
            headers=auth("auditor-token"),
        )

    assert by_version.status_code == 200, by_version.text
    replay = by_version.json()
    assert [e["type"] for e in replay["events"]] == [
        EventType.CASE_SUBMITTED,
        EventType.STEP_DISPATCHED,
    ]
    assert replay["state"]["status"] == "in_progress"
    assert [d["entity"] for d in replay["received"]] == ["banco-nacion"]
    assert full.json()["state"] is None
    assert by_time.json()["version"] == 2


async def test_an_auditor_reads_a_citizens_access_log_over_http_from_the_ledger(
    client: httpx.AsyncClient, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url):
        await until_ready(client)
        accepted = await client.post("/v1/cases", json=body(), headers=auth("counter-token", "l1"))
        case = await until_final(client, accepted.json()["case_id"])
        read = await client.get(
            f"/v1/cases/{case['case_id']}/history",
            params={"purpose": "Reclamo 117", "version": 1},
            headers={**auth("auditor-token"), "X-Request-Id": "req-117"},
        )
        assert read.status_code == 200, read.text
        refused = await client.get(
            f"/v1/cases/{case['case_id']}/history", headers=auth("kiosk-token")
        )
        assert refused.status_code == 404
        access_log = await client.get(
            "/v1/citizens/40000001/access-log?purpose=control+interno",
            headers=auth("auditor-token"),
        )
        nobody = await client.get(
            "/v1/citizens/40000002/access-log?purpose=control+interno",
            headers=auth("auditor-token"),
        )

    assert case["status"] == "completed"
    assert access_log.status_code == 200, access_log.text
    [entry] = access_log.json()["entries"]
    assert entry["case_id"] == case["case_id"]
    assert (entry["from_entity"], entry["to_entity"], entry["fields"]) == (
        "banco-nacion",
        "reniec",
        ["receipt_number"],
    )
    assert nobody.json() == {"entries": [], "reads": []}
    reads = access_log.json()["reads"]  # consultado por: who read the citizen's data, and why
    assert [(r["action"], r["reader"], r["purpose"], r["refused"]) for r in reads] == [
        ("case-replay", "auditor:auditor", "Reclamo 117", False),
        ("case-history", f"channel:{KIOSK}", None, True),
        ("citizen-access-log", "auditor:auditor", "control interno", False),
    ]
    assert reads[0]["request_id"] == "req-117"
    assert reads[0]["case_id"] == case["case_id"]
    assert reads[0]["role"] == "applicant"
    assert (reads[0]["from_entity"], reads[0]["to_entity"]) == ("ventanilla", "auditor")


async def test_a_long_history_comes_over_nats_in_chunks_and_is_recorded_once(
    client: httpx.AsyncClient, nc: Client, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    chunked = NatsCaseBus(nc, history_chunk=3)
    read = ReadContext(reader_kind="auditor", reader_id="ana", purpose="Revisión por partes")
    async with local_stack(sqlite_store, nats_server.url):
        await until_ready(client)
        accepted = await client.post("/v1/cases", json=body(), headers=auth("counter-token", "c"))
        case_id = UUID(accepted.json()["case_id"])
        await until_final(client, str(case_id))
        whole = await NatsCaseBus(nc).history(case_id)
        in_chunks = await chunked.history(case_id, read=read)
        log = await chunked.access_log("40000001")
    assert whole is not None
    assert in_chunks is not None
    assert len(whole.events) > 3  # more than one chunk
    assert in_chunks.events == whole.events
    mine = [r for r in log.reads if r.reader == "auditor:ana"]
    assert len(mine) == 1  # the first chunk records the read; the later ones do not
