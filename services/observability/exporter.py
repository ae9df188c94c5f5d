"""The metrics exporter: one HTTP endpoint in Prometheus text format for the whole bus.

It reads the ledger's store (the ANS projection, caught up at each scrape) and asks JetStream
for the queues and dead letters, with the bus owner's rights; it hears every heartbeat. The
HTTP server runs on its own thread; a scrape hands its reads to the event loop and the ledger's
reader thread, so the store and the NATS connection are each used from one place only.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from prometheus_client import CollectorRegistry, start_http_server

from services.case_ledger.application import CaseLedger
from services.case_ledger.projections.sla import catch_up
from services.case_ledger.projections.sla_rows import SlaRows, sla_rows_for
from services.case_ledger.writer import LedgerThread

from .bus_state import HeartbeatListener, bus_state
from .metrics import BusCollector, Snapshot

SCRAPE_TIMEOUT = 10.0  # seconds; Prometheus's own default scrape timeout


@dataclass
class MetricsEndpoint:
    url: str
    server: Any


class BusReader:
    def __init__(self, ledger: CaseLedger, nc: Client, listener: HeartbeatListener) -> None:
        self.ledger = ledger
        self.js = nc.jetstream()
        self.listener = listener
        self.reader = LedgerThread("metrics-reader")
        self._rows: SlaRows | None = None

    def _ledger_part(self) -> tuple[list[tuple[str, str, str, int]], list[Any]]:
        if self._rows is None:
            self._rows = sla_rows_for(self.ledger.recorder)
        catch_up(self.ledger, self._rows)
        return self._rows.case_counts(), self._rows.all_steps()

    async def snapshot(self) -> Snapshot:
        counts, steps = await self.reader.run(self._ledger_part)
        return Snapshot(counts, steps, await bus_state(self.js, self.listener))

    def close(self) -> None:
        self.reader.close()


@asynccontextmanager
async def serving_metrics(
    ledger: CaseLedger, nc: Client, host: str, port: int
) -> AsyncIterator[MetricsEndpoint]:
    """Serve /metrics on host:port (0: a free port) while the context lasts."""
    loop = asyncio.get_running_loop()
    listener = HeartbeatListener()
    await listener.start(nc)
    reader = BusReader(ledger, nc, listener)

    def take() -> Snapshot:
        future = asyncio.run_coroutine_threadsafe(reader.snapshot(), loop)
        return future.result(timeout=SCRAPE_TIMEOUT)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(BusCollector(ledger.catalog, take))
    server, thread = start_http_server(port, addr=host, registry=registry)
    try:
        yield MetricsEndpoint(f"http://{host}:{server.server_port}/metrics", server)
    finally:
        server.shutdown()
        server.server_close()
        await asyncio.to_thread(thread.join, 5.0)
        await listener.stop()
        reader.close()
