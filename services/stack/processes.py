"""The processes of a local stack as the supervisor sees them: a service child and nats-server."""

import subprocess
from collections.abc import Sequence
from pathlib import Path

from services.stack.natsd import EmbeddedNats
from services.stack.orphans import supervised_popen_options


class ChildProcess:
    """A command whose output is appended to its own log file, started again on each `start`."""

    def __init__(self, name: str, argv: Sequence[str], log_file: Path) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_file = log_file
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **supervised_popen_options(),
            )

    def exit_code(self) -> int | None:
        return self._popen.poll() if self._popen is not None else None

    def terminate(self) -> None:
        if self._popen is not None and self._popen.poll() is None:
            self._popen.terminate()

    def kill(self) -> None:
        if self._popen is not None and self._popen.poll() is None:
            self._popen.kill()
            self._popen.wait()


class NatsProcess:
    """The embedded nats-server; a restart keeps the ports and the store of the first start."""

    name = "nats-server"

    def __init__(self, server: EmbeddedNats) -> None:
        self.server = server

    @property
    def pid(self) -> int | None:
        return self.server.process.pid if self.server.process is not None else None

    def start(self) -> None:
        try:
            self.server.start()
        except Exception:
            # Started but never healthy: do not leave it running beside the next attempt.
            self.server.kill()
            raise

    def exit_code(self) -> int | None:
        process = self.server.process
        return process.poll() if process is not None else None

    def terminate(self) -> None:
        process = self.server.process
        if process is not None and process.poll() is None:
            process.terminate()

    def kill(self) -> None:
        self.server.kill()
