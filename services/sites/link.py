"""The link between a site and the hub, as a TCP proxy that tests and benchmarks control.

The site's leaf node connects to the proxy, never to the hub itself (the hub's leafnode port
has `no_advertise: true`, so the leaf never learns the real address). `cut()` closes every
connection and refuses new ones until `restore()`; `shape()` makes the link slow: a byte rate,
a one-way latency, and a drop of every connection at a fixed period.
"""

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shape:
    bytes_per_second: float
    latency: float
    drop_every: float | None = None


class LinkProxy:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.up = True
        self.connections_made = 0
        self._shape: Shape | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._dropper: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"nats-leaf://{self.host}:{self.port}"

    def start(self) -> "LinkProxy":
        self._thread.start()
        self._call(self._start()).result(10)
        return self

    def close(self) -> None:
        self._call(self._close()).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def cut(self) -> None:
        self.up = False
        self._call(self._drop_all()).result(10)

    def restore(self) -> None:
        self.up = True

    def shape(self, shape: Shape | None) -> None:
        self._shape = shape
        self._call(self._set_dropper(shape)).result(10)

    # --- in the proxy's loop ---------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, None]) -> "Future[None]":
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._dropper:
            self._dropper.cancel()
        if self._server:
            self._server.close()
        await self._drop_all()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _set_dropper(self, shape: Shape | None) -> None:
        if self._dropper:
            self._dropper.cancel()
            self._dropper = None
        if shape and shape.drop_every:
            self._dropper = asyncio.create_task(self._drop_periodically(shape.drop_every))

    async def _drop_periodically(self, period: float) -> None:
        while True:
            await asyncio.sleep(period)
            await self._drop_all()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections_made += 1
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
            )
        except asyncio.CancelledError:
            # The proxy is closing. Python 3.11's start_server callback calls .exception() on a
            # cancelled handler and logs "Exception in callback ... CancelledError": end quietly.
            pass
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Chunks are held back by the latency, then paced by the rate, in order.
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def pace() -> None:
            while True:
                due, chunk = await queue.get()
                shape = self._shape
                if shape:
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    await asyncio.sleep(len(chunk) / shape.bytes_per_second)
                writer.write(chunk)
                await writer.drain()
                queue.task_done()

        pacer = asyncio.create_task(pace())
        try:
            while True:
                chunk = await reader.read(512 if self._shape else 65536)
                if not chunk:
                    break
                latency = self._shape.latency if self._shape else 0.0
                await queue.put((time.monotonic() + latency, chunk))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(queue.join(), 5)
            pacer.cancel()
            writer.transport.abort()


@contextlib.contextmanager
def link_proxy(target_host: str, target_port: int) -> Iterator[LinkProxy]:
    proxy = LinkProxy(target_host, target_port).start()
    try:
        yield proxy
    finally:
        proxy.close()
