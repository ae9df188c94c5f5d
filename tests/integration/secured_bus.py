"""A real nats-server running the generated configuration: every user, its seed, its permissions."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nats
from nats.aio.client import Client

from schemas.entities import ENTITIES
from services.bus.connection import BusLogin, connect
from services.bus.permissions import ADMIN
from services.bus.topology import ensure_topology
from services.credentials import DEMO_CHANNELS
from services.stack.nats_config import NatsConfig, TlsFiles, write_nats_config
from services.stack.natsd import EmbeddedNats


@dataclass
class Refusals:
    """What the server refused on one connection, as it reported it (`-ERR` lines)."""

    errors: list[str] = field(default_factory=list)

    async def record(self, exc: Exception) -> None:
        self.errors.append(str(exc))

    async def expect(self, fragment: str, within: float = 3.0) -> str:
        async with asyncio.timeout(within):
            while True:
                for error in self.errors:
                    if fragment.lower() in error.lower():
                        return error
                await asyncio.sleep(0.02)


@dataclass
class SecuredBus:
    server: EmbeddedNats
    config: NatsConfig
    tls: TlsFiles | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def violations(self) -> list[str]:
        """What the server logged as refused, from any client."""
        log = self.server.log_file or self.server.store_dir / "nats-server.log"
        return [line for line in log.read_text().splitlines() if "Violation" in line]

    def login(self, user: str) -> BusLogin:
        return BusLogin.from_seed_file(
            self.config.seed_file(user), tls_ca=self.tls.ca if self.tls else None
        )

    @asynccontextmanager
    async def client(self, user: str) -> AsyncIterator[tuple[Client, Refusals]]:
        """A connection as `user` that records what the server refuses instead of failing."""
        refusals = Refusals()
        login = self.login(user)
        nc = await nats.connect(
            self.url,
            name=f"test-{user}",
            nkeys_seed=str(login.nkey_seed),
            inbox_prefix=f"_INBOX.{user}",
            tls=login.tls_context(),
            error_cb=refusals.record,
            allow_reconnect=False,
        )
        try:
            yield nc, refusals
        finally:
            await nc.close()


async def create_topology(bus: SecuredBus) -> None:
    """What `ventanilla up` does before it starts any service: as the bus owner."""
    nc = await connect(bus.url, "test-owner", login=bus.login(ADMIN))
    try:
        await ensure_topology(nc.jetstream())
    finally:
        await nc.close()


@contextmanager
def secured_bus(root: Path, tls: TlsFiles | None = None) -> Iterator[SecuredBus]:
    """A server running the configuration that `ventanilla deploy nats-config` writes."""
    config = write_nats_config(root / "config", ENTITIES, tls, DEMO_CHANNELS)
    server = EmbeddedNats(store_dir=root / "store", config_file=config.config_file)
    server.start()
    try:
        yield SecuredBus(server, config, tls)
    finally:
        server.stop()
