"""Fixtures shared by every test: a real nats-server from the wheel, on ports it picks itself."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from services.bus.topology import ensure_topology
from services.stack.natsd import EmbeddedNats


@pytest.fixture
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    """A fresh server per test (it starts in milliseconds): no state leaks between tests."""
    server = EmbeddedNats(store_dir=tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def nc(nats_server: EmbeddedNats) -> AsyncIterator[Client]:
    client = await nats.connect(nats_server.url, name="test")
    yield client
    if client.is_connected:
        await client.drain()
    else:  # a test that restarted its server may leave this client reconnecting: drain refuses
        await client.close()


@pytest.fixture
async def js(nc: Client) -> JetStreamContext:
    """JetStream with the bus topology in place."""
    context = nc.jetstream()
    await ensure_topology(context)
    return context


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"
