"""A whole local stack as one command's children: the bus, the ledger, the adapters, the gateway.

`ventanilla up` builds a `LocalStack`, starts it, and then drives its supervisor until it is
told to stop. Layers order the stop: the gateway stops taking requests first, then the ledger
and the adapters, and the bus they all talk to goes last.
Every child process, its arguments and its order are written here, and nowhere else; holding
the data dir is services/stack/held.py's.
"""

import asyncio
import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import httpx

from schemas.partitions import split_partitions
from schemas.procedures import catalog
from schemas.sites import HUB_DOMAIN
from services.bus.connection import BusLogin, connect
from services.bus.permissions import ADMIN, GATEWAY, LEDGER
from services.bus.topology import ensure_topology
from services.credentials import (
    DEMO_CHANNELS,
    DevCredentials,
    issue_dev_credentials,
)
from services.datadir import DataDir
from services.entity_adapters.registry import (
    back_office_factory,
    entity_ids,
    http_back_offices,
)
from services.sites.hub import LEAFNODE_PORT, ensure_hub_sites, prepare_hub_sites
from services.sites.permissions import SITE_RELAY
from services.stack.demo_clerks import issue_demo_clerks
from services.stack.held import HeldStack
from services.stack.nats_config import USERS_DIR, Leafnodes, TlsFiles, write_nats_config
from services.stack.natsd import EmbeddedNats
from services.stack.ports import PortChoice, choose_port
from services.stack.processes import ChildProcess, NatsProcess
from services.stack.supervisor import Supervisor

BUS_LAYER, SERVICE_LAYER, EDGE_LAYER = 0, 1, 2


@dataclass(frozen=True)
class UpOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    http_port: int = 8000
    nats_port: int = 4222
    tls: TlsFiles | None = None
    # Where the ledger keeps its events (`postgresql://...`); None: what the data dir says.
    store: str | None = None
    leafnode_port: int = LEAFNODE_PORT
    demo_site: bool = True
    # entity -> `module:factory` of its back office; the others use their package's default.
    back_offices: tuple[tuple[str, str], ...] = ()
    # Ledger worker processes; more than one needs a PostgreSQL store (SQLite has one writer).
    ledger_workers: int = 1


# How many partitions the ledger's streams map cases to on a PostgreSQL store (ledger workers
# share them); a SQLite store has one writer and one partition.
POSTGRES_PARTITIONS = 8


def ledger_partitions(store_url: str, workers: int) -> int:
    """The partition count for a store; raises ValueError for workers it cannot have."""
    shared = urlsplit(store_url).scheme in ("postgresql", "postgres")
    if workers < 1 or (workers > 1 and not shared):
        raise ValueError(
            f"{workers} ledger workers on {urlsplit(store_url).scheme or 'this'} store: more "
            "than one needs PostgreSQL (--store postgresql://...); SQLite has one writer"
        )
    count = POSTGRES_PARTITIONS if shared else 1
    if workers > count:
        raise ValueError(f"{workers} ledger workers for {count} partitions")
    return count


@dataclass(frozen=True)
class StackInfo:
    """What a user needs to reach the running stack."""

    data_dir: DataDir
    gateway_url: str
    nats_url: str
    credentials: DevCredentials
    http_port: PortChoice
    nats_port: PortChoice
    children: tuple[str, ...]
    nats_users: Path
    ledger_store: str = ""  # without its password
    leafnode_url: str | None = None


def metrics_argv(*args: str) -> list[str]:
    """The command line of the metrics exporter: `ventanilla metrics serve` in this interpreter."""
    return [sys.executable, "-m", "services.cli", "metrics", "serve", *args]


def child_argv(role: str, *args: str) -> list[str]:
    """The command line of a service child: this interpreter running `ventanilla serve`, without
    the rest of the CLI (services/cli/serve.py)."""
    return [sys.executable, "-m", "services.cli.serve", role, *args]


@dataclass
class LocalStack(HeldStack[StackInfo]):
    options: UpOptions
    supervisor: Supervisor
    _lock: IO[str] | None = field(default=None, init=False)

    def _start(self) -> StackInfo:
        host, d = self.options.host, self.data_dir
        # Every entity package and configured back office is checked before anything starts.
        entities = entity_ids()
        catalog()
        back_offices = dict(self.options.back_offices)
        for entity, factory in back_offices.items():
            back_office_factory(entity, factory)
        d.logs.mkdir(parents=True, exist_ok=True)
        if self.options.store is not None:
            # Kept in the data dir, so the CLI and later runs of `up` find the same ledger.
            d.ledger_url_file.parent.mkdir(parents=True, exist_ok=True)
            d.ledger_url_file.write_text(self.options.store + "\n")
        partitions = ledger_partitions(d.ledger_store_url(), self.options.ledger_workers)
        nats_port = choose_port(host, self.options.nats_port)
        http_port = choose_port(host, self.options.http_port)
        # Nothing connects anonymously: every process, this one included, has its own user.
        tls = self.options.tls
        leaf_port = choose_port(host, self.options.leafnode_port)
        hub_sites = prepare_hub_sites(
            d.root,
            d.nats_store / USERS_DIR,
            Leafnodes(host, leaf_port.port, HUB_DOMAIN, tls),
            d.gateway_tokens,
            demo_site=self.options.demo_site,
        )
        config = write_nats_config(
            d.nats_store,
            entities,
            tls,
            DEMO_CHANNELS,
            leafnodes=hub_sites.leafnodes,
            extra_users=hub_sites.users,
            sites=hub_sites.site_ids,
            encrypt_store=True,
        )
        server = EmbeddedNats(
            store_dir=d.nats_store,
            port=nats_port.port,
            host=host,
            supervised=True,
            log_file=d.logs / "nats-server.log",
            config_file=config.config_file,
        )
        self.supervisor.launch(NatsProcess(server), layer=BUS_LAYER)
        owner = BusLogin.from_seed_file(config.seed_file(ADMIN), tls.ca if tls else None)
        asyncio.run(create_topology(server.url, owner, hub_sites.site_ids, partitions))
        gateway_url = f"http://{host}:{http_port.port}"
        metrics_port = choose_port(host, 0).port
        credentials = issue_dev_credentials(
            d.gateway_tokens,
            d.dev_credentials,
            gateway_url,
            server.url,
            metrics=(f"http://{host}:{metrics_port}/metrics",),
        ).model_copy(update={"leafnode_url": hub_sites.leafnode_url})
        credentials = issue_demo_clerks(d, credentials)  # also writes the credentials file
        common: tuple[str, ...] = ("--data-dir", str(d.root), "--nats-url", server.url)
        if tls is not None:
            common += ("--tls-ca", str(tls.ca))

        def bus_args(user: str) -> tuple[str, ...]:
            return (*common, "--credentials", str(config.seed_file(user)))

        # Reference back offices reached over HTTP run as children of their own; like the bus,
        # they outlive the adapters that call them. An entity whose back office is configured
        # uses that one: its reference service is not run, nor its URL given (which the adapter
        # would take over the configured factory).
        offices = {
            e: choose_port(host, 0).port for e in http_back_offices() if e not in back_offices
        }

        def office_url(entity: str) -> tuple[str, ...]:
            port = offices.get(entity)
            return () if port is None else ("--back-office-url", f"http://{host}:{port}")

        def adapter_args(entity: str) -> tuple[str, ...]:
            configured = back_offices.get(entity)
            return (
                *bus_args(entity),
                *office_url(entity),
                *(("--back-office", configured) if configured else ()),
            )

        children: list[tuple[ChildProcess, int]] = [
            *((self._back_office(e, host, port), BUS_LAYER) for e, port in offices.items()),
            *(
                (self._child(name, child_argv("ledger", *bus_args(LEDGER), *extra)), SERVICE_LAYER)
                for name, extra in ledger_workers(partitions, self.options.ledger_workers)
            ),
            *(
                (
                    self._child(f"adapter-{e}", child_argv("adapter", e, *adapter_args(e))),
                    SERVICE_LAYER,
                )
                for e in entities
            ),
            *(
                [
                    (
                        self._child(SITE_RELAY, child_argv(SITE_RELAY, *bus_args(SITE_RELAY))),
                        SERVICE_LAYER,
                    )
                ]
                if hub_sites.site_ids
                else []
            ),
            # The one Prometheus endpoint of the bus, with the owner's rights (it reads JetStream's
            # consumers and the dead letters by source) and the ledger's projections.
            (
                self._child(
                    "metrics",
                    metrics_argv(*bus_args(ADMIN), "--host", host, "--port", str(metrics_port)),
                ),
                EDGE_LAYER,
            ),
            (
                self._child(
                    "gateway",
                    child_argv(
                        "gateway", *bus_args(GATEWAY), "--host", host, "--port", str(http_port.port)
                    ),
                ),
                EDGE_LAYER,
            ),
        ]
        for child, layer in children:
            self.supervisor.launch(child, layer=layer)
        return StackInfo(
            data_dir=d,
            gateway_url=gateway_url,
            nats_url=server.url,
            credentials=credentials,
            http_port=http_port,
            nats_port=nats_port,
            children=tuple(child.name for child, _ in children),
            nats_users=config.users_dir,
            ledger_store=without_password(d.ledger_store_url()),
            leafnode_url=hub_sites.leafnode_url,
        )

    def _back_office(self, entity: str, host: str, port: int) -> ChildProcess:
        where = ("--data-dir", str(self.data_dir.root), "--host", host, "--port", str(port))
        return self._child(f"backoffice-{entity}", child_argv("backoffice", entity, *where))

    def _child(self, name: str, argv: list[str]) -> ChildProcess:
        return ChildProcess(name, argv, self.data_dir.logs / f"{name}.log")


def without_password(url: str) -> str:
    parsed = urlsplit(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return urlunsplit(parsed._replace(netloc=netloc))


def ledger_workers(partitions: int, workers: int) -> list[tuple[str, tuple[str, ...]]]:
    """Each ledger child's name and its own options: one `ledger` holds everything; several
    `ledger-<n>` each prefer a share of the partitions and stand by for the others."""
    if workers == 1:
        return [("ledger", ())]
    shares = split_partitions(partitions, workers)
    return [(f"ledger-{n}", ("--partitions", share)) for n, share in enumerate(shares, 1)]


async def create_topology(
    nats_url: str, owner: BusLogin, site_ids: list[str], ledger_partitions: int = 1
) -> None:
    """Streams, bucket and consumers, as the bus owner, before any service needs them."""
    nc = await connect(nats_url, "ventanilla-up", login=owner)
    try:
        await ensure_topology(nc.jetstream(), ledger_partitions=ledger_partitions)
        await ensure_hub_sites(nc.jetstream(), site_ids)
    finally:
        await nc.close()


@functools.cache
def _probe() -> httpx.Client:
    """One client for every readiness probe: `httpx.get` builds a TLS context each call, which
    took two thirds of `up`'s CPU while it polled the gateway at start-up (measured), CPU the
    children starting beside it wanted. No keep-alive: a restarted gateway leaves none stale."""
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


def gateway_ready(gateway_url: str, timeout: float = 1.0) -> bool:
    return gateway_unready(gateway_url, timeout) is None


def gateway_unready(gateway_url: str, timeout: float = 1.0) -> str | None:
    """Why the gateway is not ready (its `/readyz` names the part that is down); None if it is."""
    try:
        response = _probe().get(f"{gateway_url}/readyz", timeout=timeout)
    except httpx.HTTPError as exc:
        return f"the gateway does not answer ({type(exc).__name__})"
    if response.status_code == 200:
        return None
    try:
        detail = str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        detail = f"HTTP {response.status_code}"
    return f"the gateway says: {detail}"


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    tick: Callable[[], None],
    interrupted: Callable[[], bool],
    interval: float = 0.2,
) -> bool:
    """Keep the supervisor ticking while waiting; False on timeout or interruption."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not interrupted():
        tick()
        if condition():
            return True
        time.sleep(interval)
    return False
