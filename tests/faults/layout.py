"""The production layout of deploy/ brought up on loopback from deploy/'s own files.

Nothing here keeps a second copy of a configuration: the NATS node config, its routes file,
the services' environment file and the systemd units' `ExecStart` lines are read from deploy/
and only what differs on one machine is substituted (host names and fixed ports by loopback
ports, /etc and /var paths by temp folders, secrets by throwaway ones). A substitution whose
text is no longer in the file fails, so the test follows the files rather than silently
drifting from them. Each rendered node config passes `nats-server -t` before it is started.
"""

import asyncio
import json
import re
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from harness.stackfiles import StackFiles
from harness.up import cli_env, issue_channel_token, ventanilla
from services.datadir import DataDir
from services.entity_adapters.registry import entity_ids
from services.stack.natsd import EmbeddedNats, nats_server_binary
from services.stack.ports import free_port
from services.stack.processes import ChildProcess
from services.stack.supervisor import Backoff, Supervisor
from tests.throwaway_ca import Certificates, issue

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NATS_CONF = DEPLOY / "nats" / "nats-server.conf"
ROUTES_CONF = DEPLOY / "nats" / "cluster-routes.conf"
ENV_FILE = DEPLOY / "systemd" / "ventanilla.env"
UNITS = DEPLOY / "systemd"
HOST = "127.0.0.1"
NODE_NAMES = ("nats-1", "nats-2", "nats-3")
ROUTES_INCLUDE = "cluster-routes.conf"
USERS_INCLUDE = Path("ventanilla") / "nats-server.conf"
# Restart=always, RestartSec=1 in every ventanilla-*.service unit.
SYSTEMD_RESTART = Backoff(initial=1.0, maximum=1.0)


def render(text: str, values: Mapping[str, str], source: Path) -> str:
    """`text` with every key of `values` replaced; a key the text no longer holds fails."""
    for old, new in values.items():
        assert old in text, f"{source.name} no longer holds {old!r}: update the layout test"
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class NodePorts:
    client: int
    monitor: int
    route: int
    leaf: int

    @classmethod
    def free(cls) -> "NodePorts":
        return cls(free_port(HOST), free_port(HOST), free_port(HOST), free_port(HOST))


class DeployedNode(EmbeddedNats):
    """A node run from its rendered config alone: listen, monitoring and store dir come from
    the file (EmbeddedNats's own flags would override them, and `-sd` twice is refused)."""

    def command(self) -> list[str]:
        assert self.config_file is not None
        return [
            str(nats_server_binary()),
            "-c",
            str(self.config_file),
            "--ports_file_dir",
            str(self.store_dir / "ports"),
            "-l",
            str(self.store_dir / "nats-server.log"),
        ]


@dataclass
class Node:
    name: str
    ports: NodePorts
    server: DeployedNode

    @property
    def url(self) -> str:
        return f"tls://{HOST}:{self.ports.client}"

    def start(self) -> None:
        self.server.start(timeout=30)

    def route_info(self, context: ssl.SSLContext) -> dict[str, object]:
        """The INFO a node sends on its route port once a TLS handshake with `context` has
        succeeded (routes start with the handshake; a peer without a certificate is refused
        there)."""
        with (
            socket.create_connection((HOST, self.ports.route), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=HOST) as conn,
        ):
            line = conn.makefile("rb").readline().decode()
        assert line.startswith("INFO "), line
        info: dict[str, object] = json.loads(line.removeprefix("INFO "))
        return info

    def kill(self) -> None:
        self.server.kill()


def node_config(name: str, ports: NodePorts, store: Path, tls: Certificates) -> str:
    """deploy/nats/nats-server.conf as node `name` on loopback; $NATS_SERVER_NAME and
    $JETSTREAM_KEY are what systemd's Environment= and EnvironmentFile= would set."""
    values = {
        "$NATS_SERVER_NAME": json.dumps(name),
        "$JETSTREAM_KEY": json.dumps(secrets.token_hex(32)),
        "0.0.0.0:4222": f"{HOST}:{ports.client}",
        "127.0.0.1:8222": f"{HOST}:{ports.monitor}",
        "0.0.0.0:6222": f"{HOST}:{ports.route}",
        "0.0.0.0:7422": f"{HOST}:{ports.leaf}",
        "/var/lib/nats/jetstream": str(store),
        "/etc/nats/tls/route.pem": str(tls.cert),
        "/etc/nats/tls/route-key.pem": str(tls.key),
        "/etc/nats/tls/leafnode.pem": str(tls.cert),
        "/etc/nats/tls/leafnode-key.pem": str(tls.key),
        "/etc/nats/tls/ca.pem": str(tls.ca),
        # Kept as they are (present, or the node folder below is laid out wrongly): both
        # included files sit beside the rendered config, as they do in /etc/nats.
        f'include "{ROUTES_INCLUDE}"': f'include "{ROUTES_INCLUDE}"',
        f'include "{USERS_INCLUDE}"': f'include "{USERS_INCLUDE}"',
    }
    return render(NATS_CONF.read_text(), values, NATS_CONF)


def routes_config(password: str, ports: Mapping[str, NodePorts]) -> str:
    values = {"ROUTE_PASSWORD": password}
    for name, node_ports in ports.items():
        values[f"{name}.ventanilla.internal:6222"] = f"{HOST}:{node_ports.route}"
    return render(ROUTES_CONF.read_text(), values, ROUTES_CONF)


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads them (no quotes are used)."""
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def loopback_env(overrides: Mapping[str, str]) -> dict[str, str]:
    env = read_env_file()
    missing = overrides.keys() - env.keys()
    assert not missing, f"{ENV_FILE.name} no longer sets {sorted(missing)}"
    return {**env, **overrides}


def exec_start(unit: str, env: Mapping[str, str], instance: str | None = None) -> list[str]:
    """The unit's ExecStart with ${VAR} from `env` and %i = `instance`, as systemd runs it, but
    with this checkout's `ventanilla`."""
    text = (UNITS / unit).read_text()
    [line] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(line.removeprefix("ExecStart="))
    assert argv[0].endswith("/ventanilla"), argv[0]

    def expand(word: str) -> str:
        word = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], word)
        return word.replace("%i", instance or "")

    return [*ventanilla(), *(expand(word) for word in argv[1:])]


@dataclass
class Layout(StackFiles):
    """What a test can reach of the running layout."""

    root: Path
    data_dir: Path
    nodes: list[Node]
    env: dict[str, str]
    supervisor: Supervisor
    tls: Certificates
    token: str = ""
    processes: dict[str, ChildProcess] = field(default_factory=dict)

    @property
    def nats_url(self) -> str:
        return self.env["VENTANILLA_NATS_URL"]

    @property
    def gateway_url(self) -> str:
        return f"http://{HOST}:{self.env['VENTANILLA_GATEWAY_PORT']}"

    @property
    def metrics_url(self) -> str:
        return f"http://{HOST}:{self.env['VENTANILLA_METRICS_PORT']}/metrics"

    def route_context(self, *, with_certificate: bool) -> ssl.SSLContext:
        """What a would-be peer dials a route port with: the cluster's CA, and a node's
        certificate or none."""
        context = ssl.create_default_context(cafile=str(self.tls.ca))
        if with_certificate:
            context.load_cert_chain(self.tls.cert, self.tls.key)
        return context

    def launch(self, name: str, unit: str, instance: str | None = None) -> None:
        argv = exec_start(unit, self.env, instance)
        child = ChildProcess(name, argv, DataDir(self.data_dir).logs / f"{name}.log")
        self.processes[name] = child
        self.supervisor.launch(child)


def ventanilla_cli(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ventanilla(), *args],
        capture_output=True,
        text=True,
        check=False,
        env=cli_env(),
        timeout=timeout,
    )


def prepare_nodes(root: Path, data_dir: Path, tls: Certificates) -> list[Node]:
    """Each node's folder as /etc/nats and /var/lib/nats would hold it, checked by `-t`."""
    made = ventanilla_cli(
        "deploy",
        "nats-config",
        "--data-dir",
        str(data_dir),
        "--tls-cert",
        str(tls.cert),
        "--tls-key",
        str(tls.key),
        "--tls-ca",
        str(tls.ca),
    )
    assert made.returncode == 0, made.stdout + made.stderr
    users_config = DataDir(data_dir).nats_store / USERS_INCLUDE.name
    ports = {name: NodePorts.free() for name in NODE_NAMES}
    routes = routes_config(secrets.token_hex(24), ports)
    nodes = []
    for name, node_ports in ports.items():
        etc = root / name / "etc"
        store = root / name / "store"
        (etc / USERS_INCLUDE.parent).mkdir(parents=True)
        store.mkdir(parents=True)
        shutil.copyfile(users_config, etc / USERS_INCLUDE)  # the same generated file on each
        (etc / ROUTES_INCLUDE).write_text(routes)
        config = etc / NATS_CONF.name
        config.write_text(node_config(name, node_ports, store, tls))
        checked = subprocess.run(
            [str(nats_server_binary()), "-t", "-c", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        server = DeployedNode(store_dir=store, port=node_ports.client, config_file=config)
        nodes.append(Node(name, node_ports, server))
    return nodes


async def create_topology(layout: Layout, replicas: int, within: float = 90.0) -> None:
    """`ventanilla deploy topology` as the bus owner, retried until the cluster has elected
    its JetStream meta leader."""
    admin = DataDir(layout.data_dir).nats_store / "users" / "admin.nk"
    args = (
        "deploy",
        "topology",
        "--replicas",
        str(replicas),
        "--nats-url",
        layout.nats_url,
        "--credentials",
        str(admin),
        "--tls-ca",
        layout.env["VENTANILLA_NATS_TLS_CA"],
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    failed = ""
    while loop.time() < deadline:
        try:
            done = await asyncio.to_thread(ventanilla_cli, *args, timeout=30.0)
        except subprocess.TimeoutExpired:
            failed = "no answer in 30 s"
            continue
        if done.returncode == 0:
            return
        failed = done.stdout + done.stderr
        await asyncio.sleep(1.0)
    raise AssertionError(f"no R{replicas} topology within {within:.0f} s: {failed[-2000:]}")


@asynccontextmanager
async def production_layout(
    root: Path, store_url: str, ledger_workers: list[str]
) -> AsyncIterator[Layout]:
    """Three NATS nodes (route TLS + route user, client TLS, per-service nkeys), R3 topology,
    the ledger workers (one per partition range) on `store_url`,
    every adapter, the gateway and the metrics exporter, all as their units start them."""
    tls = issue(root / "pki", client_auth=True)
    data_dir = root / "var"
    folder = DataDir(data_dir)
    folder.ledger_url_file.parent.mkdir(parents=True)
    folder.ledger_url_file.write_text(store_url + "\n")
    nodes = prepare_nodes(root / "nats", data_dir, tls)
    env = loopback_env(
        {
            "VENTANILLA_NATS_URL": ",".join(n.url for n in nodes),
            "VENTANILLA_NATS_TLS_CA": str(tls.ca),
            "VENTANILLA_DATA_DIR": str(data_dir),
            "VENTANILLA_GATEWAY_PORT": str(free_port(HOST)),
            "VENTANILLA_METRICS_PORT": str(free_port(HOST)),
        }
    )
    layout = Layout(root, data_dir, nodes, env, Supervisor(SYSTEMD_RESTART), tls)
    ticking: asyncio.Task[None] | None = None
    try:
        await asyncio.gather(*(asyncio.to_thread(n.start) for n in nodes))
        await create_topology(layout, replicas=len(nodes))
        for partitions in ledger_workers:
            layout.launch(f"ledger-{partitions}", "ventanilla-ledger@.service", partitions)
        for entity in entity_ids():
            layout.launch(f"adapter-{entity}", "ventanilla-adapter@.service", entity)
        layout.launch("gateway", "ventanilla-gateway.service")
        layout.launch("metrics", "ventanilla-metrics.service")
        layout.token = await asyncio.to_thread(issue_channel_token, data_dir)

        async def tick() -> None:
            while True:
                layout.supervisor.tick()
                await asyncio.sleep(0.2)

        ticking = asyncio.create_task(tick(), name="systemd")
        yield layout
    finally:
        if ticking is not None:
            ticking.cancel()
            with suppress(asyncio.CancelledError):
                await ticking
        await asyncio.to_thread(layout.supervisor.stop)
        for node in nodes:
            await asyncio.to_thread(node.server.stop)
