"""A three-node JetStream cluster on loopback, with the bus's services as real processes on it.

Each node has its own store and fixed client and route ports (so a restarted node comes back
where its peers and clients expect it) and fsyncs every write (`sync_interval: always`, as in
deploy/nats/nats-server.conf). The ledger and the six adapters run as `ventanilla serve ...`
processes connected to all three nodes (the ledger, if asked, to one of them through a proxy),
kept running by the stack's own supervisor.
"""

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from nats.aio.client import Client

from harness.stackfiles import StackFiles
from services.bus.connection import connect
from services.bus.topology import ensure_topology
from services.datadir import DataDir
from services.entity_adapters.registry import entity_ids
from services.stack.natsd import EmbeddedNats
from services.stack.ports import free_port
from services.stack.processes import ChildProcess
from services.stack.supervisor import Backoff, Supervisor

HOST = "127.0.0.1"
CLUSTER = "ventanilla-faults"


@dataclass
class Node:
    name: str
    server: EmbeddedNats
    route_port: int

    def start(self) -> None:
        self.server.start(timeout=30)

    def kill(self) -> None:
        self.server.kill()


def node_config(name: str, route_port: int, routes: list[int]) -> str:
    config = {
        "server_name": name,
        # The store dir comes from EmbeddedNats (`-sd`); the server refuses it twice.
        "jetstream": {"sync_interval": "always"},
        "cluster": {
            "name": CLUSTER,
            "listen": f"{HOST}:{route_port}",
            "routes": [f"nats-route://{HOST}:{p}" for p in routes],
            # Clients reach only the nodes they are given (a client behind a proxy stays there).
            "no_advertise": True,
        },
    }
    return json.dumps(config, indent=2)  # the server reads JSON as well as its own format


@dataclass
class Cluster:
    root: Path
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        return ",".join(n.server.url for n in self.nodes)

    @classmethod
    def on_loopback(cls, root: Path, size: int = 3) -> "Cluster":
        route_ports = [free_port(HOST) for _ in range(size)]
        cluster = cls(root)
        for i, route_port in enumerate(route_ports):
            name = f"nats-{i + 1}"
            store = root / name
            store.mkdir(parents=True)
            config = root / f"{name}.conf"
            config.write_text(node_config(name, route_port, route_ports))
            server = EmbeddedNats(store_dir=store, port=free_port(HOST), config_file=config)
            cluster.nodes.append(Node(name, server, route_port))
        return cluster

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.server.stop()

    async def client(self, name: str) -> Client:
        return await connect(self.url, name)

    async def wait_jetstream(self, within: float = 60.0) -> None:
        """Until the cluster has a JetStream leader: the topology can be laid out then."""
        nc = await self.client("faults-topology")
        try:
            async with asyncio.timeout(within):
                while True:
                    try:
                        await ensure_topology(nc.jetstream(timeout=5.0), replicas=len(self.nodes))
                        return
                    except Exception:  # no meta leader yet
                        await asyncio.sleep(0.5)
        finally:
            await nc.close()


def serve_argv(data_dir: Path, nats_url: str, *role: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "services.cli",
        "serve",
        *role,
        "--nats-url",
        nats_url,
        "--data-dir",
        str(data_dir),
    ]


@dataclass
class ClusterStack(StackFiles):
    cluster: Cluster
    data_dir: Path
    supervisor: Supervisor


@asynccontextmanager
async def cluster_stack(
    root: Path, store: str | None = None, ledger_link: Callable[[Cluster], str] | None = None
) -> AsyncIterator[ClusterStack]:
    """The cluster up with R3 topology, the ledger and every adapter running on it.

    The ledger keeps its events in `store` (`postgresql://...`; None: SQLite in the data dir)
    and reaches the cluster at `ledger_link(cluster)` (a proxy's URL; None: every node).
    """
    cluster = Cluster.on_loopback(root / "nats")
    data_dir = root / "var"
    logs = DataDir(data_dir).logs
    if store is not None:
        DataDir(data_dir).ledger_url_file.parent.mkdir(parents=True, exist_ok=True)
        DataDir(data_dir).ledger_url_file.write_text(store + "\n")
    supervisor = Supervisor(Backoff(initial=0.5, maximum=2.0))
    ticking: asyncio.Task[None] | None = None
    try:
        await asyncio.to_thread(cluster.start)
        await cluster.wait_jetstream()
        url = cluster.url
        ledger_url = ledger_link(cluster) if ledger_link else url
        supervisor.launch(
            ChildProcess("ledger", serve_argv(data_dir, ledger_url, "ledger"), logs / "ledger.log")
        )
        for entity in entity_ids():
            argv = serve_argv(data_dir, url, "adapter", entity)
            supervisor.launch(ChildProcess(f"adapter-{entity}", argv, logs / f"{entity}.log"))

        async def tick() -> None:
            while True:
                supervisor.tick()
                await asyncio.sleep(0.2)

        ticking = asyncio.create_task(tick(), name="supervisor")
        yield ClusterStack(cluster, data_dir, supervisor)
    finally:
        if ticking is not None:
            ticking.cancel()
            with suppress(asyncio.CancelledError):
                await ticking
        await asyncio.to_thread(supervisor.stop)
        await asyncio.to_thread(cluster.stop)
