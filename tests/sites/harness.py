"""A hub (`ventanilla up`) and MAC Express sites (`ventanilla site up`), each a real process tree
on free ports, the sites linked to the hub through a `LinkProxy` the test controls.

The hub is started once per module with every test's site registered (`ventanilla deploy
site`); each test runs its own site, so its cases are told apart by their channel, and the
ledger check covers every case the module submitted.
"""

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from harness.up import UpStack
from schemas.cases import case_id_for
from schemas.sites import PENDING_FORWARD, SiteLink, site_channel
from services.credentials import DevCredentials
from services.datadir import DataDir
from services.sites.link import LinkProxy
from services.stack.natsd import nats_server_binary
from tests.faults.checker import Tally, check
from tests.faults.load import CaseOrder, mixed_orders
from tests.processes import eventually, ventanilla

FINAL = ("completed", "rejected")


@dataclass
class Hub:
    up: UpStack
    leafnode_port: int
    accepted: list[UUID] = field(default_factory=list)
    running: set[str] = field(default_factory=set)  # the sites the current test runs

    @property
    def data_dir(self) -> Path:
        return self.up.data_dir

    def bundle(self, site: str) -> Path:
        return self.data_dir / "sites" / site

    def check(self, scenario: str) -> Tally:
        return check(scenario, self.up.store, self.up.backoffices, self.accepted, 0.0)

    def assert_each_case_once(self, scenario: str) -> Tally:
        """Every case the module's sites were told was accepted is final in the hub's ledger,
        recorded once; no other case is there; each back-office effect happened once."""
        tally = self.check(scenario)
        assert tally.clean, tally.problems
        assert tally.final == tally.submitted == len(set(self.accepted)), tally.line()
        return tally

    async def site_links(self) -> list[SiteLink]:
        """The sites in the operators' overview, as the hub's gateway answers it."""
        credentials = self.up.credentials
        async with httpx.AsyncClient(
            headers={"Authorization": f"Bearer {credentials.operator}"}, timeout=10
        ) as client:
            response = await client.get(f"{credentials.gateway_url}/v1/operations/overview")
        assert response.status_code == 200, response.text
        links = [SiteLink.model_validate(s) for s in response.json()["sites"]]
        return [link for link in links if link.site in self.running]

    def sites_command(self, tls_ca: Path | None = None) -> str:
        """What `ventanilla sites` prints at the hub (`--tls-ca` for a hub's bus over TLS)."""
        tls = ["--tls-ca", str(tls_ca)] if tls_ca is not None else []
        done = subprocess.run(
            [*ventanilla(), "sites", "--data-dir", str(self.data_dir), *tls],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        return done.stdout

    @property
    def leafnode_url(self) -> str:
        """The URL `ventanilla up` gives its sites (dev-credentials.json's `leafnode_url`)."""
        url = self.up.credentials.leafnode_url
        assert url is not None
        return url

    def monitor(self, endpoint: str) -> dict[str, Any]:
        """An endpoint of the hub's nats-server monitoring port (`varz`, `leafz`), found in the
        ports file the server writes for its pid."""
        pid = self.up.child(str(nats_server_binary()))
        ports_file = DataDir(self.data_dir).nats_store / "ports" / f"nats-server_{pid}.ports"
        address = json.loads(ports_file.read_text())["monitoring"][0]
        response = httpx.get(f"{address}/{endpoint}", timeout=5)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def leaf_names(self) -> list[str]:
        """The server names of the leaf nodes connected to the hub now (`site-<site>`)."""
        return sorted(leaf["name"] for leaf in self.monitor("leafz").get("leafs") or [])

    def nats_log(self) -> str:
        return (DataDir(self.data_dir).logs / "nats-server.log").read_text()

    def kill_nats(self) -> int:
        return self.up.kill(str(nats_server_binary()))

    async def nats_restarted(self, old_pid: int) -> None:
        await self.up.wait_restarted(str(nats_server_binary()), old_pid)


def register_sites(data_dir: Path, sites: list[str], tls_ca: Path | None = None) -> None:
    """`ventanilla deploy site` for each; with `tls_ca`, each bundle carries it as `ca.pem`."""
    tls = ["--tls-ca", str(tls_ca)] if tls_ca is not None else []
    for site in sites:
        subprocess.run(
            [*ventanilla(), "deploy", "site", "--site", site, "--data-dir", str(data_dir), *tls],
            check=True,
            capture_output=True,
        )


@dataclass
class Site:
    site: str
    root: Path
    bundle: Path
    hub_url: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def channel(self) -> str:
        return site_channel(self.site)

    @property
    def data_dir(self) -> Path:
        return self.root / "var"

    @property
    def credentials(self) -> DevCredentials:
        return DevCredentials.model_validate_json(
            DataDir(self.data_dir).dev_credentials.read_text()
        )

    @property
    def token(self) -> str:
        return self.credentials.channels[self.channel]

    def start(self) -> None:
        """Start `ventanilla site up` (again, after a kill) and wait until it says ready."""
        self.root.mkdir(parents=True, exist_ok=True)
        out = self.root / "site-up.out"
        ready_before = out.read_text().count("ready at") if out.exists() else 0
        args = ["--hub", self.hub_url, "--bundle", str(self.bundle)]
        args += ["--data-dir", str(self.data_dir), "--http-port", "0"]
        with out.open("ab") as log:
            self.process = subprocess.Popen(
                [*ventanilla(), "site", "up", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "COLUMNS": "200"},
            )
        process = self.process

        def ready() -> bool | None:
            assert process.poll() is None, out.read_text()
            return out.read_text().count("ready at") > ready_before or None

        eventually(ready, 60, f"site {self.site} to print ready")

    def nats_log(self) -> str:
        return (DataDir(self.data_dir).logs / "nats-server.log").read_text()

    def kill(self) -> None:
        """A power cut at the site: the site command, its nats-server and gateway, at once."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.credentials.gateway_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30.0,
        )

    def case_id(self, order: CaseOrder) -> UUID:
        return case_id_for(self.channel, order.key)

    def case_id_for_key(self, key: str) -> UUID:
        return case_id_for(self.channel, key)

    def cli_submit(self, key: str) -> str:
        """`ventanilla case submit` against the site, as docs/sites.md shows it; its output."""
        args = ["--data-dir", str(self.data_dir), "--channel", self.channel]
        args += ["--procedure", "duplicado-dni", "--dni", "40000003", "--input", "reason=perdida"]
        done = subprocess.run(
            [*ventanilla(), "case", "submit", *args, "--idempotency-key", key],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        return done.stdout

    async def submit(self, orders: list[CaseOrder], concurrency: int = 8) -> list[UUID]:
        """Every order accepted by the site's gateway with the receipt of a case held there."""
        slots = asyncio.Semaphore(concurrency)
        async with self.http() as client:

            async def one(order: CaseOrder) -> UUID:
                async with slots:
                    response = await client.post(
                        "/v1/cases", json=order.body(), headers={"Idempotency-Key": order.key}
                    )
                assert response.status_code == 202, response.text
                body = response.json()
                assert body["receipt"] == PENDING_FORWARD, body
                assert body["case_id"] == str(self.case_id(order)), body
                return UUID(body["case_id"])

            return list(await asyncio.gather(*(one(o) for o in orders)))

    async def cases(self) -> list[dict[str, Any]]:
        async with self.http() as client:
            response = await client.get("/v1/site/cases")
        assert response.status_code == 200, response.text
        cases: list[dict[str, Any]] = response.json()
        return cases

    async def wait_all_final(self, case_ids: list[UUID], within: float) -> dict[UUID, str]:
        """Until the site shows a final status, sent back by the hub, for every one of them."""
        wanted = set(case_ids)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        seen: dict[UUID, str] = {}
        while loop.time() < deadline:
            seen = {UUID(c["case_id"]): c["status"] for c in await self.cases()}
            if all(seen.get(c) in FINAL for c in wanted):
                return {c: seen[c] for c in wanted}
            await asyncio.sleep(1.0)
        waiting = sum(1 for c in wanted if seen.get(c) not in FINAL)
        raise AssertionError(f"{waiting} of {len(wanted)} cases not final at the site {within}s")


@contextmanager
def running_site(site: str, root: Path, hub: Hub, proxy: LinkProxy) -> Iterator[Site]:
    """The site linked to the hub through `proxy`, which the test may cut."""
    with site_linked_at(site, root, hub, proxy.url) as runner:
        yield runner


@contextmanager
def site_linked_at(site: str, root: Path, hub: Hub, hub_url: str) -> Iterator[Site]:
    """The site started with `--hub hub_url` (the hub's own leafnode URL: no proxy between)."""
    runner = Site(site, root, hub.bundle(site), hub_url)
    runner.start()
    hub.running.add(site)
    try:
        yield runner
    finally:
        hub.running.discard(site)
        runner.stop()


def offline_orders(count: int, seed: int) -> list[CaseOrder]:
    return mixed_orders(count, seed)
