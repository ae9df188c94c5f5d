"""The hub's site relay fills each site's status stream from the status read model (KV)."""

import asyncio
import contextlib
import inspect
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from schemas import sites, subjects
from schemas.views import CaseView
from services.sites.bundle import write_bundle
from services.sites.hub import ensure_hub_sites
from services.sites.relay import STATUS_VIEWS_STREAM, SiteRelay
from services.stack.natsd import EmbeddedNats
from services.stack.supervisor import Supervisor

pytestmark = pytest.mark.integration

SITE = "pias-napo"
# How long `ventanilla up`'s supervisor waits for a child it stopped before it kills it.
GRACE = inspect.signature(Supervisor.stop).parameters["grace"].default


def view(
    case_id: UUID, version: int, status: str = "in_progress", channel: str | None = None
) -> CaseView:
    now = datetime.now(UTC)
    return CaseView.model_validate(
        {
            "case_id": case_id,
            "procedure": "duplicado-dni",
            "channel": channel or sites.site_channel(SITE),
            "status": status,
            "submitted_at": now,
            "updated_at": now,
            "version": version,
            "steps": [],
        }
    )


async def put_view(js: JetStreamContext, case: CaseView) -> None:
    kv = await js.key_value(subjects.STATUS_BUCKET)
    await kv.put(subjects.case_status_key(case.case_id), case.model_dump_json().encode())


async def at_site(js: JetStreamContext, case_id: UUID) -> CaseView | None:
    """The view the site would copy: the site's status stream's one message for the case."""
    try:
        msg = await js.get_last_msg(sites.status_stream(SITE), sites.case_status(SITE, case_id))
    except NotFoundError:
        return None
    return CaseView.model_validate_json(msg.data or b"")


def relay_process(data_dir: Path, nats_url: str) -> subprocess.Popen[bytes]:
    """`ventanilla serve site-relay` as `ventanilla up` starts it."""
    where = ("--data-dir", str(data_dir), "--nats-url", nats_url)
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "site-relay", *where],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
async def hub(js: JetStreamContext) -> JetStreamContext:
    await ensure_hub_sites(js, [SITE])
    return js


async def test_every_view_of_a_sites_case_reaches_its_status_stream_and_no_other_case_does(
    hub: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    ours, not_ours = uuid4(), uuid4()
    stop = asyncio.Event()
    relay_nc = await nats.connect(nats_server.url, name="site-relay")
    relay = asyncio.create_task(SiteRelay(relay_nc, [SITE]).run(stop))
    try:
        for version in (1, 3, 5):
            await put_view(hub, view(ours, version))
            await put_view(hub, view(not_ours, version, channel="mac-lima-norte"))
        await put_view(hub, view(ours, 7, "completed"))
        async with asyncio.timeout(20):
            while (seen := await at_site(hub, ours)) is None or seen.version < 7:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        await relay_nc.close()  # its pull is pending: a drain would wait for it
    assert (seen.version, seen.status) == (7, "completed")
    assert await at_site(hub, not_ours) is None


async def test_a_view_superseded_before_its_ack_never_comes_again_to_set_the_site_back(
    hub: JetStreamContext, nc: Client
) -> None:
    case_id = uuid4()
    relay = SiteRelay(nc, [SITE])
    sub = await hub.pull_subscribe_bind(sites.RELAY_STATUSES_CONSUMER, stream=STATUS_VIEWS_STREAM)
    await put_view(hub, view(case_id, 1))
    (older,) = await sub.fetch(1, timeout=5)
    await older.nak(delay=0.5)  # a failed round: version 1 would come again
    await put_view(hub, view(case_id, 2, "completed"))
    (newer,) = await sub.fetch(1, timeout=5)
    assert CaseView.model_validate_json(newer.data).version == 2
    await relay.send_statuses([newer])
    await newer.ack()
    # Version 1 left the bucket's stream when version 2 was put: it is not delivered again.
    with pytest.raises(TimeoutError):
        await sub.fetch(1, timeout=2)
    await sub.unsubscribe()
    seen = await at_site(hub, case_id)
    assert seen is not None
    assert (seen.version, seen.status) == (2, "completed")


async def test_the_relay_process_stops_on_sigterm_within_the_grace_with_every_view_acked(
    hub: JetStreamContext, nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    write_bundle(data_dir, SITE, tokens_file=tmp_path / "tokens.json")
    process = relay_process(data_dir, nats_server.url)
    try:
        case_id = uuid4()
        await put_view(hub, view(case_id, 1))
        async with asyncio.timeout(30):  # it runs, and it has fetched and relayed a view
            while await at_site(hub, case_id) is None:
                await asyncio.sleep(0.05)
        await asyncio.sleep(2.5)  # a few idle fetches expire, as they do in a running stack
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, GRACE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0
    consumer = await hub.consumer_info(STATUS_VIEWS_STREAM, sites.RELAY_STATUSES_CONSUMER)
    assert (consumer.num_pending, consumer.num_ack_pending) == (0, 0)
