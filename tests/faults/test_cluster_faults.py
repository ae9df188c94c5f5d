"""Faults in a three-node JetStream cluster with R3 streams: one node killed while the load
goes on, all three at once (a power cut, every write fsynced before it was acknowledged), and the
ledger's link to the cluster cut at a TCP proxy for 10 s (the cluster and the adapters keep
running; commands wait in their stream).

The load goes straight onto the command stream, as the gateway publishes it; a case counts as
accepted once the cluster acknowledged its command.
"""

import asyncio
import random
from pathlib import Path

import pytest

from services.sites.link import LinkProxy

from .cluster import Cluster, ClusterStack, cluster_stack
from .load import LoadReport, mixed_orders, submit_over_nats
from .scenario import (
    CASES,
    SEED,
    Load,
    Progress,
    assert_nothing_lost_or_doubled,
    random_point,
    run_scenario,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


def nats_load(stack: ClusterStack, seed: int) -> Load:
    orders = mixed_orders(CASES, seed)

    async def load(progress: Progress) -> LoadReport:
        nc = await stack.cluster.client("faults-load")
        try:
            return await submit_over_nats(nc.jetstream(), orders, on_accepted=progress.update)
        finally:
            await nc.close()

    return load


async def test_one_node_of_three_killed_while_the_load_goes_on(
    tmp_path: Path, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 6)
    async with cluster_stack(tmp_path) as stack:
        victim = rng.choice(stack.cluster.nodes)

        async def fault(progress: Progress) -> None:
            await progress.reached(random_point(rng, 0.1, 0.4))
            victim.kill()
            progress.note(f"SIGKILL {victim.name}")
            await progress.reached(min(CASES, progress.accepted + 100))  # load goes on without it
            await asyncio.to_thread(victim.start)
            progress.note(f"{victim.name} restarted on its store")

        tally = await run_scenario(
            "cluster: one node of three killed, R3",
            load=nats_load(stack, SEED + 6),
            fault=fault,
            stack=stack,
            results_file=results_file,
        )
    assert_nothing_lost_or_doubled(tally)


async def test_all_three_nodes_killed_at_once(tmp_path: Path, results_file: Path | None) -> None:
    rng = random.Random(SEED + 7)
    async with cluster_stack(tmp_path) as stack:

        async def fault(progress: Progress) -> None:
            await progress.reached(random_point(rng, 0.2, 0.6))
            for node in stack.cluster.nodes:
                node.kill()
            progress.note("SIGKILL nats-1, nats-2, nats-3 (power cut)")
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            await asyncio.gather(*(asyncio.to_thread(n.start) for n in stack.cluster.nodes))
            progress.note("all three nodes restarted on their stores")

        tally = await run_scenario(
            "cluster: all three nodes killed at once, sync_interval always",
            load=nats_load(stack, SEED + 7),
            fault=fault,
            stack=stack,
            results_file=results_file,
        )
    assert_nothing_lost_or_doubled(tally)


LINK_CUT = 10.0  # seconds


async def test_the_ledgers_link_to_nats_cut_for_10_s(
    tmp_path: Path, ledger_store: str | None, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 8)
    links: list[LinkProxy] = []

    def through_a_proxy(cluster: Cluster) -> str:
        """The ledger reaches one node, through a proxy the test cuts (the nodes do not tell
        their clients of each other, so it cannot go round it)."""
        node = cluster.nodes[0].server
        links.append(LinkProxy(node.host, node.port).start())
        return f"nats://{links[0].host}:{links[0].port}"

    try:
        async with cluster_stack(tmp_path, ledger_store, through_a_proxy) as stack:
            [link] = links

            async def fault(progress: Progress) -> None:
                await progress.reached(random_point(rng, 0.2, 0.5))
                while link.connections_made == 0:  # a slow machine: the ledger still starting
                    await asyncio.sleep(0.1)
                await asyncio.to_thread(link.cut)
                progress.note("the ledger's link to NATS cut")
                await asyncio.sleep(LINK_CUT)
                link.restore()
                progress.note(f"link restored after {LINK_CUT:.0f} s")

            tally = await run_scenario(
                "ledger's link to NATS cut for 10 s",
                load=nats_load(stack, SEED + 8),
                fault=fault,
                stack=stack,
                results_file=results_file,
            )
    finally:
        for proxy in links:
            proxy.close()
    assert_nothing_lost_or_doubled(tally)
    assert link.connections_made >= 2  # the ledger was cut off, then came back through the proxy
