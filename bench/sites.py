"""A MAC Express site catching up after its link returns.

The hub is the real local stack (services/stack/up.py), the site the real site stack
(services/sites/site_stack.py), the link a TCP proxy (services/sites/link.py). With the link
cut, the site takes a backlog of cases over HTTP; then the link is restored and two times are
measured from that moment:

- `site_forward_cases_per_s`: the backlog divided by the time until the hub holds every case
  and its relay has handed all of them to the ledger;
- `site_catchup_s`: the time until the site shows a final status for every case.
"""

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx

from harness.devstack import local_stack, wait_until
from services.bus.connection import BusLogin, connect
from services.credentials import DevCredentials
from services.sites.bundle import DEMO_SITE
from services.sites.link import LinkProxy
from services.sites.links import site_link
from services.sites.site_stack import SiteOptions, SiteStack
from services.stack.supervisor import Supervisor
from services.stack.up import gateway_ready

BODY = {
    "procedure": "duplicado-dni",
    "citizen": {"document_type": "DNI", "document_number": "40000001"},
    "inputs": {"reason": "perdida"},
}
FINAL = ("completed", "rejected")


def run(folder: Path, quick: bool) -> dict[str, Any]:
    backlog = 200 if quick else 1000
    print(f"sites: a backlog of {backlog} cases forwarded after a reconnect", flush=True)
    with local_stack(folder / "hub", leafnode_port=0, within=120) as info:
        site: SiteStack | None = None
        proxy: LinkProxy | None = None
        try:
            assert info.leafnode_url is not None
            leaf = urlsplit(info.leafnode_url)
            assert leaf.hostname is not None
            assert leaf.port is not None
            proxy = LinkProxy(leaf.hostname, leaf.port).start()
            proxy.cut()
            site = SiteStack(
                SiteOptions(
                    bundle_dir=info.data_dir.root / "sites" / DEMO_SITE,
                    hub_url=proxy.url,
                    data_dir=folder / "site",
                    http_port=0,
                ),
                Supervisor(),
            )
            site_info = site.start()
            wait_until(lambda: gateway_ready(site_info.gateway_url), 60, "the site")
            credentials = DevCredentials.model_validate_json(site_info.credentials_file.read_text())
            admin = BusLogin.from_seed_file(info.nats_users / "admin.nk")
            return asyncio.run(_measure(credentials, proxy, info.nats_url, admin, backlog))
        finally:
            if proxy is not None:
                proxy.close()
            if site is not None:
                site.stop()


async def _measure(
    site: DevCredentials, proxy: LinkProxy, hub_nats: str, admin: BusLogin, backlog: int
) -> dict[str, Any]:
    (token,) = site.channels.values()
    async with httpx.AsyncClient(
        base_url=site.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        slots = asyncio.Semaphore(16)

        async def submit() -> None:
            async with slots:
                key = f"bench-site-{uuid4()}"
                response = await client.post(
                    "/v1/cases", json=BODY, headers={"Idempotency-Key": key}
                )
                assert response.status_code == 202, response.text

        await asyncio.gather(*(submit() for _ in range(backlog)))
        nc = await connect(hub_nats, "bench-sites", login=admin)
        try:
            proxy.restore()
            started = time.perf_counter()
            forwarded_s = catchup_s = None
            while catchup_s is None:
                now = time.perf_counter() - started
                if forwarded_s is None:
                    link = await site_link(nc, DEMO_SITE)
                    if link.forwarded >= backlog and link.backlog == 0:
                        forwarded_s = now
                cases = (await client.get("/v1/site/cases")).json()
                if len(cases) == backlog and all(c["status"] in FINAL for c in cases):
                    catchup_s = time.perf_counter() - started
                await asyncio.sleep(0.5)
        finally:
            await nc.close()
    assert forwarded_s is not None
    return {
        "site_backlog_cases": backlog,
        "site_forward_cases_per_s": backlog / forwarded_s,
        "site_catchup_s": catchup_s,
    }
