"""A MAC Express site keeps taking cases while its link is down; once it is back, the hub's
ledger records each case once, each back-office effect happens once, and every final status
is visible at the site.

Real processes throughout: the hub is `ventanilla up`, each site `ventanilla site up`, the link a
TCP proxy the test cuts. The ledger check reads the hub's ledger and the back offices' effect
logs (tests/faults/checker.py).
"""

import asyncio
from pathlib import Path

import nats
import pytest
from nats.aio.msg import Msg
from nats.js.api import ExternalStream, StreamConfig, StreamSource

from schemas import sites, subjects
from schemas.queries import ReadContext, ReadNotice
from services.bus.connection import BusLogin, connect
from services.bus.dead_letters import dead_letters
from services.datadir import DataDir
from services.sites.link import Shape, link_proxy
from services.sites.permissions import SITE_RELAY
from tests.faults.load import submit_command

from .harness import Hub, offline_orders, running_site

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

CASES = 200
# Catch-up from the hub to a site took about 40 s once after a hub restart: be generous.
CATCH_UP = 300.0
# 200 cases out (~150 kB) and their statuses back (~400 kB) at 8 kB/s, with a drop every 30 s.
SLOW_LINK_CATCH_UP = 600.0


async def test_cases_taken_while_the_link_is_cut_arrive_once_and_their_statuses_come_back(
    hub: Hub, tmp_path: Path
) -> None:
    with (
        link_proxy("127.0.0.1", hub.leafnode_port) as link,
        running_site("tambo-estrecho", tmp_path, hub, link) as site,
    ):
        link.cut()
        case_ids = await site.submit(offline_orders(CASES, seed=101))
        hub.accepted += case_ids
        await asyncio.sleep(3)
        # The cut is real: no case reached the hub, and the site says each one waits.
        assert hub.check("while cut").lost == CASES
        waiting = {c["case_id"]: c for c in await site.cases()}
        assert len(waiting) == CASES
        assert all(
            not c["forwarded"] and c["status"] == "pendiente de envío" for c in waiting.values()
        )

        (down,) = await hub.site_links()
        assert (down.site, down.connected, down.forwarded) == ("tambo-estrecho", False, 0)

        link.restore()
        statuses = await site.wait_all_final(case_ids, CATCH_UP)
        (back,) = await hub.site_links()
        assert (back.connected, back.backlog, back.forwarded) == (True, 0, CASES)
        assert None not in (back.last_forward, back.last_contact)
        printed = hub.sites_command()
        assert printed.split()[:2] == ["site", "link"], printed  # the table alone, no log lines
        row = next(line for line in printed.splitlines() if "tambo-estrecho" in line)
        assert (row.split()[1], row.split()[-1]) == ("up", str(CASES)), row
    hub.assert_each_case_once("link cut at the proxy, then restored")
    assert sum(s == "completed" for s in statuses.values()) > 0
    assert sum(s == "rejected" for s in statuses.values()) > 0


async def test_the_hub_nats_server_killed_and_restarted_on_its_store_loses_nothing(
    hub: Hub, tmp_path: Path
) -> None:
    with (
        link_proxy("127.0.0.1", hub.leafnode_port) as link,
        running_site("tambo-yavari", tmp_path, hub, link) as site,
    ):
        link.cut()
        case_ids = await site.submit(offline_orders(CASES, seed=202))
        hub.accepted += case_ids
        pid = hub.kill_nats()
        await hub.nats_restarted(pid)
        link.restore()
        await site.wait_all_final(case_ids, CATCH_UP)
    hub.assert_each_case_once("hub nats-server killed and restarted while the link was cut")


async def test_a_site_killed_and_restarted_while_offline_loses_no_case(
    hub: Hub, tmp_path: Path
) -> None:
    orders = offline_orders(CASES, seed=303)
    with (
        link_proxy("127.0.0.1", hub.leafnode_port) as link,
        running_site("pias-tigre", tmp_path, hub, link) as site,
    ):
        link.cut()
        before = await site.submit(orders[: CASES // 2])
        hub.accepted += before
        site.kill()  # its nats-server and gateway die with it, as in a power cut
        site.start()
        after = await site.submit(orders[CASES // 2 :])
        hub.accepted += after
        held = {c["case_id"] for c in await site.cases()}
        assert held == {str(c) for c in before + after}
        link.restore()
        await site.wait_all_final(before + after, CATCH_UP)
    hub.assert_each_case_once("site killed and restarted while offline")


async def test_the_same_case_submitted_twice_at_the_site_stays_one_case(
    hub: Hub, tmp_path: Path
) -> None:
    order = offline_orders(1, seed=404)[0]
    with (
        link_proxy("127.0.0.1", hub.leafnode_port) as link,
        running_site("pias-putumayo", tmp_path, hub, link) as site,
    ):
        link.cut()
        first = await site.submit([order])
        again = await site.submit([order])  # the kiosk retried: same key, same request
        assert first == again
        hub.accepted += first
        async with site.http() as client:
            other = {
                **order.body(),
                "citizen": {"document_type": "DNI", "document_number": "40000002"},
            }
            conflict = await client.post(
                "/v1/cases", json=other, headers={"Idempotency-Key": order.key}
            )
        assert conflict.status_code == 409, conflict.text
        assert [c["case_id"] for c in await site.cases()] == [str(first[0])]
        # The advisor's CLI, as docs/sites.md shows it, retried with its own key: one case too.
        by_cli = site.case_id_for_key("cli-1")
        for _ in range(2):
            printed = site.cli_submit("cli-1")
            assert f"case {by_cli} pendiente de envío" in printed, printed
            assert f"ventanilla site cases --data-dir {site.data_dir}" in printed, printed
        hub.accepted.append(by_cli)
        held = [c["case_id"] for c in await site.cases()]
        assert sorted(held) == sorted([str(first[0]), str(by_cli)])
        link.restore()
        await site.wait_all_final([*first, by_cli], CATCH_UP)
    hub.assert_each_case_once("the same case submitted twice at a site")


async def test_a_site_cannot_submit_as_another_channel_nor_read_another_sites_results(
    hub: Hub, tmp_path: Path
) -> None:
    """What the hub's server and relay enforce even against a site whose own machine is taken
    over: anything may be written on the site's server, nothing of it counts at the hub."""
    intruder, victim = "pias-morona", "pias-ucayali"
    with (
        link_proxy("127.0.0.1", hub.leafnode_port) as link_a,
        link_proxy("127.0.0.1", hub.leafnode_port) as link_b,
        running_site(intruder, tmp_path / "a", hub, link_a) as site_a,
        running_site(victim, tmp_path / "b", hub, link_b) as site_b,
    ):
        nc = await nats.connect(site_a.credentials.nats_url)
        try:
            seen: list[str] = []

            async def note(msg: Msg) -> None:
                seen.append(msg.subject)

            await nc.subscribe(">", cb=note)
            js = nc.jetstream()
            forged = offline_orders(3, seed=505)
            # Another channel's subject in the site's own outgoing stream…
            as_lima = submit_command(forged[0], "mac-lima-norte")
            await js.publish(
                sites.outbox_submit_case(intruder, "mac-lima-norte"),
                as_lima.model_dump_json().encode(),
            )
            # …the site's own subject claiming another channel as its actor…
            as_victim = submit_command(forged[1], site_b.channel)
            await js.publish(
                sites.outbox_submit_case(intruder, site_a.channel),
                as_victim.model_dump_json().encode(),
            )
            # …a read the site claims an auditor made (a site has clerks, not auditors)…
            as_auditor = ReadNotice(
                case_id=as_lima.envelope.case_id,
                read=ReadContext(reader_kind="auditor", reader_id="sgp", purpose="Fingido"),
            )
            await js.publish(
                sites.outbox_read_notice(intruder, site_a.channel),
                as_auditor.model_dump_json().encode(),
            )
            # …and straight onto the hub's command subject, across the leaf link.
            direct = submit_command(forged[2], "mac-lima-norte")
            await nc.publish(
                subjects.submit_case("mac-lima-norte", direct.envelope.case_id),
                direct.model_dump_json().encode(),
            )
            # Reading the victim's statuses: sourcing its stream at the hub, asking about it.
            await js.add_stream(
                StreamConfig(
                    name="STOLEN",
                    duplicate_window=60,
                    sources=[
                        StreamSource(
                            name=sites.status_stream(victim),
                            external=ExternalStream(
                                api=sites.js_api(sites.HUB_DOMAIN),
                                deliver=sites.status_deliver_prefix(intruder),
                            ),
                        )
                    ],
                )
            )
            with pytest.raises(nats.errors.Error):
                await nc.request(
                    f"{sites.js_api(sites.HUB_DOMAIN)}.STREAM.INFO.{sites.status_stream(victim)}",
                    b"",
                    timeout=2,
                )
            legit = await site_b.submit(offline_orders(1, seed=506))
            hub.accepted += legit
            await site_b.wait_all_final(legit, CATCH_UP)
            await asyncio.sleep(2)
            assert (await js.stream_info("STOLEN")).state.messages == 0
            assert not [s for s in seen if s.startswith(f"ventanilla.site.{victim}.")]
        finally:
            await nc.close()
        letters = await _dead_letters_filed_by_the_relay(hub)
    assert len(letters) == 3, letters
    submitted = [reason for reason in letters if "may submit only as" in reason]
    assert submitted == [f"site {intruder} may submit only as {site_a.channel}"] * 2, letters
    assert f"site {intruder} may report only its own readers' reads" in letters, letters
    # Not in the ledger: the check counts any case nobody was told was accepted.
    hub.assert_each_case_once("forged submissions and a peek at another site")


async def _dead_letters_filed_by_the_relay(hub: Hub) -> list[str]:
    users = DataDir(hub.data_dir).nats_store / "users"
    nc = await connect(
        hub.up.credentials.nats_url, "test", login=BusLogin.from_seed_file(users / "admin.nk")
    )
    try:
        letters = await dead_letters(nc.jetstream())
    finally:
        await nc.close()
    return [letter.reason for letter in letters if letter.filed_by == SITE_RELAY]


async def test_everything_arrives_over_a_slow_lossy_link(hub: Hub, tmp_path: Path) -> None:
    """A boat's link: 64 kbit/s each way, 500 ms latency, dropped every 30 s."""
    with (
        link_proxy("127.0.0.1", hub.leafnode_port) as link,
        running_site("pias-maranon", tmp_path, hub, link) as site,
    ):
        link.cut()
        case_ids = await site.submit(offline_orders(CASES, seed=606))
        hub.accepted += case_ids
        link.shape(Shape(bytes_per_second=64_000 / 8, latency=0.5, drop_every=30.0))
        link.restore()
        await site.wait_all_final(case_ids, SLOW_LINK_CATCH_UP)
        reconnections = link.connections_made
    hub.assert_each_case_once("slow lossy link")
    assert reconnections > 1  # the drops happened, and the leaf came back after each
