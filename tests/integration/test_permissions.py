"""The server, not our code, keeps each user of the bus to its own subjects.

Every test connects as one user of the generated configuration and tries something that user
must not do; the proof is the server's own refusal (`Permissions Violation`), and where a
message could have leaked, that nothing arrived or was stored.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import nats
import nats.errors
import nkeys
import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from schemas import subjects
from schemas.conformance import check_user_name
from schemas.entities import ENTITIES
from schemas.heartbeats import Heartbeat
from schemas.views import CaseView
from services.bus.permissions import channel_user_name
from services.case_ledger.store import LedgerStore
from services.credentials import Principal, TokenFile, TokenRecord, hash_token
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.nats_case_bus import NatsCaseBus
from services.gateway.status_kv import KvCaseStatusFeed
from services.observability.bus_state import HeartbeatListener, dead_letters_by_source
from tests.factories import submit_command
from tests.integration.secured_bus import SecuredBus, create_topology, secured_bus
from tests.integration.stack import local_stack, submit

# A case id for subjects that must be refused whatever case they name.
CASE = UUID(int=7)

pytestmark = pytest.mark.integration


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[SecuredBus]:
    with secured_bus(tmp_path / "bus") as secured:
        await create_topology(secured)
        yield secured


async def stored(bus: SecuredBus, stream: str) -> int:
    async with bus.client("admin") as (nc, _):
        return (await nc.jetstream().stream_info(stream)).state.messages


async def test_an_entity_cannot_subscribe_to_another_entitys_requests_or_results(
    bus: SecuredBus,
) -> None:
    async with bus.client("sat") as (nc, refusals):
        await nc.subscribe(subjects.entity_work("reniec"))
        await nc.subscribe(f"{subjects.PREFIX}.result.reniec.>")
        await refusals.expect('Subscription to "ventanilla.work.reniec.>"')
        await refusals.expect('Subscription to "ventanilla.result.reniec.>"')


async def test_an_entity_cannot_answer_in_another_entitys_name(bus: SecuredBus) -> None:
    async with bus.client("sat") as (nc, refusals):
        await nc.publish(subjects.result("reniec", "duplicado-dni", CASE), b"{}")
        await nc.flush()
        await refusals.expect(f'Publish to "ventanilla.result.reniec.duplicado-dni.{CASE.hex}"')
    assert await stored(bus, subjects.RESULTS_STREAM) == 0


async def test_an_entity_cannot_create_read_or_fetch_from_consumers_on_another_entitys_work(
    bus: SecuredBus,
) -> None:
    async with bus.client("sat") as (nc, refusals):
        js = nc.jetstream(timeout=0.5)
        spy = ConsumerConfig(
            durable_name="spy",
            filter_subject=subjects.entity_work("reniec"),
            ack_policy=AckPolicy.EXPLICIT,
        )
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_consumer(subjects.WORK_STREAM, spy)
        await refusals.expect('Publish to "$JS.API.CONSUMER.DURABLE.CREATE.VENTANILLA_WORK.spy"')
        with pytest.raises(nats.errors.TimeoutError):
            await js.consumer_info(subjects.WORK_STREAM, "adapter-reniec")
        await refusals.expect('Publish to "$JS.API.CONSUMER.INFO.VENTANILLA_WORK.adapter-reniec"')
        with pytest.raises(nats.errors.TimeoutError):
            await nc.request(
                f"$JS.API.CONSUMER.MSG.NEXT.{subjects.WORK_STREAM}.adapter-reniec",
                b'{"batch": 1}',
                timeout=0.5,
            )
        await refusals.expect(
            'Publish to "$JS.API.CONSUMER.MSG.NEXT.VENTANILLA_WORK.adapter-reniec"'
        )


async def test_an_entity_cannot_reach_the_ledger_or_the_idempotency_bucket(
    bus: SecuredBus,
) -> None:
    async with bus.client("reniec") as (nc, refusals):
        await nc.subscribe(f"{subjects.PREFIX}.ledger.>")
        await refusals.expect('Subscription to "ventanilla.ledger.>"')
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
            await nc.request(subjects.LEDGER_QUERY_HISTORY, b"{}", timeout=0.5)
        await refusals.expect('Publish to "ventanilla.ledger.query.history"')
        with pytest.raises(nats.errors.Error):
            await nc.jetstream(timeout=0.5).key_value(subjects.IDEMPOTENCY_BUCKET)
        await refusals.expect('Publish to "$JS.API.STREAM.INFO.KV_ventanilla_idempotency"')
        await nc.subscribe(f"$KV.{subjects.IDEMPOTENCY_BUCKET}.>")
        await refusals.expect('Subscription to "$KV.ventanilla_idempotency.>"')


async def test_the_gateway_cannot_publish_step_results_or_requests(bus: SecuredBus) -> None:
    async with bus.client("gateway") as (nc, refusals):
        await nc.publish(subjects.result("reniec", "duplicado-dni", CASE), b"{}")
        await nc.publish(subjects.work("banco-nacion", "devolucion-tasa"), b"{}")
        await nc.flush()
        await refusals.expect(f'Publish to "ventanilla.result.reniec.duplicado-dni.{CASE.hex}"')
        await refusals.expect('Publish to "ventanilla.work.banco-nacion.devolucion-tasa"')
    assert await stored(bus, subjects.RESULTS_STREAM) == 0
    assert await stored(bus, subjects.WORK_STREAM) == 0


async def test_an_unknown_user_or_an_anonymous_client_cannot_connect(
    bus: SecuredBus, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger.nk"
    stranger.write_bytes(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER))
    with pytest.raises(nats.errors.Error, match="Authorization"):
        await nats.connect(
            bus.url, nkeys_seed=str(stranger), allow_reconnect=False, max_reconnect_attempts=0
        )
    with pytest.raises(nats.errors.Error, match="Authorization"):
        await nats.connect(bus.url, allow_reconnect=False, max_reconnect_attempts=0)


async def test_each_role_does_its_own_job_and_a_case_completes(
    bus: SecuredBus, sqlite_store: LedgerStore, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.json"
    record = TokenRecord(
        sha256=hash_token("counter"), principal=Principal(kind="channel", id="mac-lima-norte")
    )
    tokens.write_text(TokenFile(tokens=[record]).model_dump_json())
    async with (
        local_stack(sqlite_store, bus.url, login_for=bus.login) as stack,
        bus.client("gateway") as (gateway_nc, refusals),
    ):
        app = create_app(NatsCaseBus(gateway_nc), TokenBook(tokens))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            async with asyncio.timeout(15):
                while (await http.get("/readyz")).status_code != 200:
                    await asyncio.sleep(0.1)
            response = await http.post(
                "/v1/cases",
                headers={"Authorization": "Bearer counter", "Idempotency-Key": str(uuid4())},
                json={
                    "procedure": "duplicado-dni",
                    "citizen": {"document_type": "DNI", "document_number": "40000001"},
                    "inputs": {"reason": "perdida"},
                },
            )
            assert response.status_code == 202, response.text
            case_id = response.json()["case_id"]
            assert await stack.wait_final(UUID(case_id)) == "completed"
            shown = await http.get(
                f"/v1/cases/{case_id}", headers={"Authorization": "Bearer counter"}
            )
            assert shown.json()["status"] == "completed"
        assert refusals.errors == []
    assert bus.violations() == []


async def test_a_channel_submits_only_in_its_own_name(bus: SecuredBus) -> None:
    kiosk = channel_user_name("mac-express-pias-napo")
    async with bus.client(kiosk) as (nc, refusals):
        js = nc.jetstream()
        own = submit_command("40000001", channel="mac-express-pias-napo")
        ack = await js.publish(
            subjects.submit_case("mac-express-pias-napo", own.envelope.case_id),
            own.model_dump_json().encode(),
        )
        assert ack.seq == 1
        await nc.publish(subjects.submit_case("mac-lima-norte", CASE), b"{}")
        await nc.publish(subjects.result("reniec", "duplicado-dni", CASE), b"{}")
        await nc.subscribe(subjects.COMMANDS_SUBJECTS)
        await nc.flush()
        await refusals.expect(f'Publish to "ventanilla.cmd.submit-case.mac-lima-norte.{CASE.hex}"')
        await refusals.expect(f'Publish to "ventanilla.result.reniec.duplicado-dni.{CASE.hex}"')
        await refusals.expect('Subscription to "ventanilla.cmd.>"')
    assert await stored(bus, subjects.COMMANDS_STREAM) == 1
    assert await stored(bus, subjects.RESULTS_STREAM) == 0


async def test_the_gateway_shows_operators_the_queues_under_its_own_user(
    bus: SecuredBus, sqlite_store: LedgerStore
) -> None:
    async with bus.client("admin") as (admin, _):
        # A request waiting for RENIEC, whose adapter is not running, and a dead letter.
        request = b'{"not": "a step request"}'
        await admin.jetstream().publish(subjects.work("reniec", "duplicado-dni"), request)
        await admin.jetstream().publish(subjects.dead_letter("ledger"), b"{}")
    async with bus.client("gateway") as (nc, refusals):
        overview = await NatsCaseBus(nc).overview()
        # The indicators' and health cards' view: letters counted by source, heartbeats heard.
        by_source = await dead_letters_by_source(nc.jetstream())
        listener = HeartbeatListener()
        await listener.start(nc)
        async with bus.client("reniec") as (reniec_nc, _):
            beat = Heartbeat(process="reniec", sent_at=datetime.now(UTC),
                             started_at=datetime.now(UTC), last_activity_at=None, handled=0,
                             interval_s=5.0)  # fmt: skip
            async with asyncio.timeout(10):
                while "reniec" not in listener.latest:
                    await reniec_nc.publish(
                        subjects.heartbeat("reniec"), beat.model_dump_json().encode()
                    )
                    await asyncio.sleep(0.1)
        await listener.stop()
        assert refusals.errors == []
    assert by_source == {"ledger": 1}
    reniec = next(q for q in overview.entities if q.entity == "reniec")
    assert (reniec.waiting, reniec.in_hand) == (1, 0)
    assert {q.entity for q in overview.entities} == set(ENTITIES)
    assert overview.dead_letters == 1
    levels = {level.stream: level.messages for level in overview.streams}
    assert levels[subjects.WORK_STREAM] == 1
    assert bus.violations() == []


async def test_the_ledger_writes_case_status_the_gateway_only_reads_and_watches_it(
    bus: SecuredBus, sqlite_store: LedgerStore
) -> None:
    async with (
        local_stack(sqlite_store, bus.url, login_for=bus.login),
        bus.client("gateway") as (nc, refusals),
        bus.client("admin") as (admin, _),
    ):
        feed = KvCaseStatusFeed(nc)  # the gateway's one watch, under the gateway's own user
        await feed.start()
        try:
            async with asyncio.timeout(10):
                await feed.watching.wait()
            case_id = await submit(admin.jetstream(), submit_command("40000001"))
            async with asyncio.timeout(30):
                views = [view async for view in feed.updates(case_id)]
        finally:
            await feed.close()
        kv = await nc.jetstream(timeout=0.5).key_value(subjects.STATUS_BUCKET)
        with pytest.raises(nats.errors.Error):
            await kv.put(subjects.case_status_key(case_id), b'{"status": "completed"}')
        await refusals.expect(f'Publish to "$KV.{subjects.STATUS_BUCKET}.case.{case_id.hex}"')
        assert len(refusals.errors) == 1
        kept = CaseView.model_validate_json((await kv.get(f"case.{case_id.hex}")).value or b"")
    assert views[-1].status == "completed"  # written by the ledger under its own user
    assert kept == views[-1]
    # and, under the same user, the recorded command purged from the bus
    assert await stored(bus, subjects.COMMANDS_STREAM) == 0
    assert len(bus.violations()) == 1  # the gateway's put, and nothing else


async def test_the_ledger_may_purge_the_commands_stream_and_nothing_else(bus: SecuredBus) -> None:
    """It purges what it has recorded (case_ledger/retiring.py): no other stream, no delete."""
    async with bus.client("admin") as (admin, _):
        for _ in range(2):
            await admin.jetstream().publish(subjects.submit_case("mac-lima-norte", CASE), b"{}")
        await admin.jetstream().publish(subjects.result("reniec", "duplicado-dni", CASE), b"{}")
    async with bus.client("ledger") as (nc, refusals):
        js = nc.jetstream(timeout=0.5)
        with pytest.raises(nats.errors.Error):
            await js.purge_stream(subjects.RESULTS_STREAM, seq=2)
        with pytest.raises(nats.errors.Error):
            await js.delete_msg(subjects.COMMANDS_STREAM, 2)
        await refusals.expect(f'Publish to "$JS.API.STREAM.PURGE.{subjects.RESULTS_STREAM}"')
        await refusals.expect(f'Publish to "$JS.API.STREAM.MSG.DELETE.{subjects.COMMANDS_STREAM}"')
        assert await js.purge_stream(subjects.COMMANDS_STREAM, seq=2)
        assert len(refusals.errors) == 2
    assert await stored(bus, subjects.COMMANDS_STREAM) == 1
    assert await stored(bus, subjects.RESULTS_STREAM) == 1


async def test_an_entity_cannot_read_or_watch_the_case_status_bucket(bus: SecuredBus) -> None:
    stream = subjects.kv_stream(subjects.STATUS_BUCKET)
    async with bus.client("reniec") as (nc, refusals):
        with pytest.raises(nats.errors.Error):
            await nc.jetstream(timeout=0.5).key_value(subjects.STATUS_BUCKET)
        await refusals.expect(f'Publish to "$JS.API.STREAM.INFO.{stream}"')
        await nc.subscribe(f"$KV.{subjects.STATUS_BUCKET}.>")
        await refusals.expect(f'Subscription to "$KV.{subjects.STATUS_BUCKET}.>"')


async def test_an_entitys_check_user_sends_it_work_and_hears_its_answers_only(
    bus: SecuredBus,
) -> None:
    user = check_user_name("sat")
    async with bus.client(user) as (nc, refusals):
        js = nc.jetstream(timeout=2.0)
        # Its own entity's work it may send (JetStream acks on its own inbox) and answers hear.
        ack = await js.publish(subjects.work("sat", "certificado-no-adeudo"), b"{}")
        assert ack.stream == subjects.WORK_STREAM
        await nc.subscribe(subjects.entity_results("sat"))
        await nc.subscribe(subjects.dead_letter("sat"))
        # Nothing of another entity, no stream or consumer, no ledger, no bucket, no results.
        await nc.publish(subjects.work("reniec", "duplicado-dni"), b"{}")
        await nc.subscribe(subjects.entity_results("reniec"))
        await nc.subscribe(subjects.dead_letter("reniec"))
        await nc.publish(subjects.result("sat", "certificado-no-adeudo", CASE), b"{}")
        await nc.subscribe(subjects.EVENTS_SUBJECTS)
        await nc.publish(f"$JS.API.STREAM.INFO.{subjects.RESULTS_STREAM}", b"")
        await nc.publish(f"$JS.API.CONSUMER.CREATE.{subjects.WORK_STREAM}", b"{}")
        await nc.publish(subjects.LEDGER_QUERY_CASE, b"{}")
        await nc.flush()
        for refused in (
            'Publish to "ventanilla.work.reniec.duplicado-dni"',
            f'Subscription to "{subjects.entity_results("reniec")}"',
            'Subscription to "ventanilla.dlq.reniec"',
            f'Publish to "ventanilla.result.sat.certificado-no-adeudo.{CASE.hex}"',
            'Subscription to "ventanilla.event.>"',
            f'Publish to "$JS.API.STREAM.INFO.{subjects.RESULTS_STREAM}"',
            f'Publish to "$JS.API.CONSUMER.CREATE.{subjects.WORK_STREAM}"',
            f'Publish to "{subjects.LEDGER_QUERY_CASE}"',
        ):
            await refusals.expect(refused)
        allowed = (subjects.entity_results("sat"), "ventanilla.dlq.sat", "ventanilla.work.sat.")
        assert not [e for e in refusals.errors if any(a in e for a in allowed)], refusals.errors
    assert await stored(bus, subjects.WORK_STREAM) == 1
    assert await stored(bus, subjects.RESULTS_STREAM) == 0
