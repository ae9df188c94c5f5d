"""deploy/'s production layout on loopback, from deploy/'s files: three NATS nodes with TLS and
a route user on their routes, client TLS and one nkey per service, R3 streams, the ledger on
PostgreSQL, every adapter, the gateway and the metrics exporter, each started by its systemd
unit's command line. The mixed procedures go in through the gateway; meanwhile one NATS node
and one of the two ledger workers are SIGKILLed (the worker restarted a second later, as
systemd would; the other worker takes its partitions meanwhile).
Every accepted case must end once.
"""

import asyncio
import random
import ssl
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from services.entity_adapters.registry import entity_ids

from .layout import DEPLOY, Layout, production_layout, read_env_file
from .load import LoadReport, mixed_orders, submit_over_http
from .postgres import fresh_database
from .scenario import (
    CASES,
    SEED,
    Progress,
    assert_nothing_lost_or_doubled,
    random_point,
    run_scenario,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(900)]

# One ledger worker per partition range, as the `ventanilla-ledger@<range>.service` instances
# of deploy/README.md.
LEDGER_WORKERS = ["0-3", "4-7"]


def test_prometheus_scrapes_the_metrics_unit_port() -> None:
    """The scrape target's port is the one the metrics unit listens on."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "ventanilla"]
    targets = [t for group in job["static_configs"] for t in group["targets"]]
    port = read_env_file()["VENTANILLA_METRICS_PORT"]
    assert targets
    assert all(t.endswith(f":{port}") for t in targets), targets


async def wait_restarted(layout: Layout, name: str, within: float = 60.0) -> None:
    async with asyncio.timeout(within):
        while layout.supervisor.restarts(name) == 0:
            await asyncio.sleep(0.2)


async def test_one_node_and_the_ledger_worker_killed_under_load(
    tmp_path: Path, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 11)
    orders = mixed_orders(CASES, SEED + 11)
    with fresh_database() as store_url:
        async with production_layout(tmp_path, store_url, LEDGER_WORKERS) as layout:
            for node in layout.nodes:
                with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"):
                    node.route_info(layout.route_context(with_certificate=False))
                # With a node's certificate, the node still asks for the route user.
                info = node.route_info(layout.route_context(with_certificate=True))
                assert info["auth_required"] is True, info
            victim = rng.choice(layout.nodes)
            worker = next(name for name in layout.processes if name.startswith("ledger-"))

            async def load(progress: Progress) -> LoadReport:
                return await submit_over_http(
                    layout.gateway_url, layout.token, orders, on_accepted=progress.update
                )

            async def fault(progress: Progress) -> None:
                await progress.reached(random_point(rng, 0.1, 0.4))
                victim.kill()
                progress.note(f"SIGKILL {victim.name}")
                await progress.reached(min(CASES, progress.accepted + 50))
                layout.processes[worker].kill()
                progress.note(f"SIGKILL {worker}")
                await wait_restarted(layout, worker)
                progress.note(f"{worker} restarted after {layout.supervisor.backoff.initial} s")
                await progress.reached(min(CASES, progress.accepted + 100))
                await asyncio.to_thread(victim.start)
                progress.note(f"{victim.name} restarted on its store")

            tally = await run_scenario(
                "production layout: one NATS node and the ledger worker killed",
                load=load,
                fault=fault,
                stack=layout,
                results_file=results_file,
            )
            async with httpx.AsyncClient() as client:
                metrics = (await client.get(layout.metrics_url, timeout=30)).text
    assert_nothing_lost_or_doubled(tally)
    # What deploy/prometheus scrapes: the ledger and every adapter up, by their heartbeats.
    up = {
        sample.labels["process"]: sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "ventanilla_process_up"
        for sample in family.samples
    }
    assert len(up) >= 1 + len(entity_ids()), up
    assert set(up.values()) == {1.0}, up
