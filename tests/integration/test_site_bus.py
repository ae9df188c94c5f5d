"""A MAC Express site's case bus on its own nats-server, with no hub: claims and the outbox."""

from pathlib import Path

import nats
import pytest

from schemas import sites
from services.gateway.case_bus import DependencyUnavailable, IdempotencyConflict
from services.sites.bundle import write_bundle
from services.sites.site_bus import SiteCaseBus
from services.sites.site_topology import ensure_site_topology
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command

pytestmark = pytest.mark.integration

SITE = "pias-napo"


async def test_a_site_claims_publishes_and_lists_its_cases_without_the_hub(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    nc = await nats.connect(nats_server.url, name="site-gateway")
    js = nc.jetstream()
    bundle = write_bundle(tmp_path, SITE, tokens_file=tmp_path / "tokens.json")
    await ensure_site_topology(js, bundle)
    await ensure_site_topology(js, bundle)  # a restart finds its streams and bucket in place
    bus = SiteCaseBus(nc, SITE)
    channel = sites.site_channel(SITE)
    first = submit_command("40000001", channel=channel, key="k-1")
    second = submit_command("40000002", channel=channel, key="k-2")

    assert await bus.submit(first) == "accepted"
    assert await bus.submit(first) == "repeat"
    assert await bus.submit(second) == "accepted"
    other_body = submit_command("40000003", channel=channel, key="k-1")
    with pytest.raises(IdempotencyConflict):
        await bus.submit(other_body)

    # Each command is in the outbox once: the repeat was dropped by its message id.
    outbox = await js.stream_info(sites.outbox_stream(SITE))
    assert outbox.state.messages == 2
    case_id = first.envelope.case_id
    view = await bus.case(case_id)
    assert view is not None
    assert (view.status, view.procedure) == ("submitted", first.procedure)
    history = await bus.history(case_id)
    assert history is not None
    assert history.events == []
    listed = await bus.cases()
    assert [(c.case_id, c.forwarded, c.status) for c in listed] == [
        (first.envelope.case_id, False, sites.PENDING_FORWARD),
        (second.envelope.case_id, False, sites.PENDING_FORWARD),
    ]
    overview = await bus.overview()
    assert {s.stream: s.messages for s in overview.streams}[sites.outbox_stream(SITE)] == 2

    await nc.close()  # the site's server is gone for this gateway: refused, not waited for
    with pytest.raises(DependencyUnavailable, match="not connected to the site's NATS"):
        await bus.case(case_id)
