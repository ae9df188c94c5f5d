"""How a gateway's calls to its NATS server fail: as `DependencyUnavailable`, never by waiting.

Shared by the hub's case bus and a MAC Express site's, so both answer a counter the same way when
their server is gone or slow.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import nats.errors
from nats.aio.client import Client
from nats.js.kv import KeyValue

from .case_bus import DependencyUnavailable


def require_connection(nc: Client, server: str = "NATS") -> None:
    """Refuse at once when `nc` is disconnected; `server` names it in the reason."""
    # A disconnected client buffers and waits; a caller at a counter should not.
    if not nc.is_connected:
        raise DependencyUnavailable("nats", f"not connected to {server}")


@contextmanager
def nats_errors() -> Iterator[None]:
    """A timeout or a NATS error inside the block becomes `DependencyUnavailable("nats")`."""
    try:
        yield
    except (TimeoutError, nats.errors.Error) as exc:
        raise DependencyUnavailable("nats", type(exc).__name__) from None


class Bucket:
    """A KV bucket of `nc`'s server, bound on first use and kept."""

    def __init__(self, nc: Client, name: str, *, server: str = "NATS") -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.name = name
        self.server = server
        self._kv: KeyValue | None = None

    async def kv(self) -> KeyValue:
        require_connection(self.nc, self.server)
        if self._kv is None:
            with nats_errors():
                self._kv = await self.js.key_value(self.name)
        return self._kv
