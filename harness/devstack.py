"""The stack `ventanilla up` runs (services/stack/up.py), started in this process's own
supervisor rather than as a `ventanilla up` child: its processes are this process's children,
so a benchmark can read their CPU time from /proc (harness/procfs.py)."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from services.sites.hub import LEAFNODE_PORT
from services.stack.supervisor import Supervisor
from services.stack.up import LocalStack, StackInfo, UpOptions, gateway_ready

# Ten processes import at once: on two cores shared with other work (load average 20) that
# took more than a minute.
STARTUP_SECONDS = 240


def wait_until(ready: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not get ready within {within:.0f}s")
        time.sleep(0.2)


@contextmanager
def local_stack(
    folder: Path,
    *,
    leafnode_port: int = LEAFNODE_PORT,
    within: float = STARTUP_SECONDS,
    store: str | None = None,
    ledger_workers: int = 1,
) -> Iterator[StackInfo]:
    """The whole stack on free ports in the data dir `folder`, until its gateway answers ready;
    stopped at the end. `store`: the ledger's `postgresql://...` (None: SQLite in `folder`),
    written by `ledger_workers` processes."""
    options = UpOptions(
        folder,
        http_port=0,
        nats_port=0,
        leafnode_port=leafnode_port,
        store=store,
        ledger_workers=ledger_workers,
    )
    stack = LocalStack(options, Supervisor())
    info = stack.start()
    try:
        wait_until(
            lambda: gateway_ready(info.gateway_url), within, f"the stack (logs in {folder}/logs)"
        )
        yield info
    finally:
        stack.stop()
