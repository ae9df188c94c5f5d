"""A MAC Express site as one command's children: its leaf-node nats-server and its gateway.

`ventanilla site up` builds a `SiteStack`, starts it and drives its supervisor, as `ventanilla
up` does at the hub. The site's data dir holds its own NATS store (the cases waiting for the
link live there), its gateway's token hashes, its console's clerk accounts, `dev-credentials.json`
(with the advisor's console password) and the logs.
"""

import asyncio
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import nats

from services.credentials import (
    DevCredentials,
    Principal,
    TokenFile,
    TokenRecord,
    hash_token,
    write_private,
)
from services.datadir import DataDir
from services.stack.demo_clerks import issue_accounts
from services.stack.held import HeldStack
from services.stack.natsd import EmbeddedNats
from services.stack.ports import PortChoice, choose_port
from services.stack.processes import ChildProcess, NatsProcess
from services.stack.supervisor import Supervisor
from services.stack.up import BUS_LAYER, EDGE_LAYER

from .bundle import SiteBundle, load_bundle
from .site_config import write_site_config
from .site_topology import ensure_site_topology


@dataclass(frozen=True)
class SiteOptions:
    bundle_dir: Path
    hub_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    http_port: int = 8100


@dataclass(frozen=True)
class SiteInfo:
    bundle: SiteBundle
    gateway_url: str
    nats_url: str
    http_port: PortChoice
    credentials_file: Path


@dataclass
class SiteStack(HeldStack[SiteInfo]):
    options: SiteOptions
    supervisor: Supervisor
    _lock: IO[str] | None = field(default=None, init=False)

    def _start(self) -> SiteInfo:
        d, host = self.data_dir, self.options.host
        bundle = load_bundle(self.options.bundle_dir.resolve())
        d.logs.mkdir(parents=True, exist_ok=True)
        config = write_site_config(bundle, self.options.hub_url, d.nats_store)
        server = EmbeddedNats(
            store_dir=d.nats_store,
            host=host,
            supervised=True,
            log_file=d.logs / "nats-server.log",
            config_file=config,
        )
        self.supervisor.launch(NatsProcess(server), layer=BUS_LAYER)
        asyncio.run(_create_topology(server.url, bundle))
        http_port = choose_port(host, self.options.http_port)
        gateway_url = f"http://{host}:{http_port.port}"
        credentials = write_site_credentials(d, bundle, gateway_url, server.url)
        # The site's advisor signs in to the site's own console, on the site's own accounts.
        issue_accounts(d, credentials, {site_advisor(bundle.site): bundle.channel}, {})
        argv = [
            sys.executable,
            *("-m", "services.cli.serve", "site-gateway"),  # as `up` starts its children
            *("--bundle", str(bundle.folder), "--data-dir", str(d.root)),
            *("--nats-url", server.url, "--host", host, "--port", str(http_port.port)),
        ]
        gateway = ChildProcess("gateway", argv, d.logs / "gateway.log")
        self.supervisor.launch(gateway, layer=EDGE_LAYER)
        return SiteInfo(bundle, gateway_url, server.url, http_port, d.dev_credentials)


def site_advisor(site: str) -> str:
    """The account `site up` makes for the site's advisor (more: `ventanilla clerk add`)."""
    return f"asesor.{site}"


async def _create_topology(nats_url: str, bundle: SiteBundle) -> None:
    nc = await nats.connect(nats_url, name="ventanilla-site-up")
    try:
        await ensure_site_topology(nc.jetstream(), bundle)
    finally:
        await nc.close()


# The site's gateway serves its own kiosk only: the limit stops a client stuck in a loop, and
# must not stop an advisor catching up on a queue of citizens, or a backlog being re-entered.
SITE_TOKEN_RATE_PER_MINUTE = 6000


def write_site_credentials(
    d: DataDir, bundle: SiteBundle, gateway_url: str, nats_url: str
) -> DevCredentials:
    """The site's channel token (from the bundle) and site-local auditor and operator tokens.

    Written in the hub's shape, so `ventanilla case submit --data-dir <site dir>` works as is.
    """
    previous = (
        DevCredentials.model_validate_json(d.dev_credentials.read_text())
        if d.dev_credentials.exists()
        else None
    )
    auditor = previous.auditor if previous else secrets.token_urlsafe(32)
    operator = previous.operator if previous else secrets.token_urlsafe(32)
    credentials = DevCredentials(
        gateway_url=gateway_url,
        nats_url=nats_url,
        channels={bundle.channel: bundle.token},
        auditor=auditor,
        operator=operator,
        # The console passwords made before: `issue_accounts` keeps them.
        clerks=previous.clerks if previous else {},
    )
    records = [
        TokenRecord(
            sha256=hash_token(bundle.token),
            principal=Principal(kind="channel", id=bundle.channel),
            token_id=f"site-{bundle.site}",
            rate_per_minute=SITE_TOKEN_RATE_PER_MINUTE,
        ),
        TokenRecord(
            sha256=hash_token(auditor),
            principal=Principal(kind="auditor", id=f"site-{bundle.site}-auditor"),
            token_id=f"site-{bundle.site}-auditor",
        ),
        TokenRecord(
            sha256=hash_token(operator),
            principal=Principal(kind="operator", id=f"site-{bundle.site}-operator"),
            token_id=f"site-{bundle.site}-operator",
        ),
    ]
    write_private(d.gateway_tokens, TokenFile(tokens=records).model_dump_json(indent=2))
    write_private(d.dev_credentials, credentials.model_dump_json(indent=2))
    return credentials
