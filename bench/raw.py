"""The physical limits, measured in the same run as the project: bare nats-py and eventsourcing.

- the JetStream pipeline: one publisher (async publishes, acks awaited in windows) and one pull
  consumer (fetch up to 256, ack each) on a file-backed stream of a fresh nats-server;
- eventsourcing appends on SQLite (WAL, fsync on commit): 100 events per commit and 1 per commit;
- replay of a 1,000-event aggregate with plain eventsourcing.
"""

import asyncio
import time
from pathlib import Path
from typing import Any

import nats
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from services.stack.natsd import EmbeddedNats

# About the size of a StepRequest or a LedgerEvent announcement on the bus.
PAYLOAD = b"x" * 480


async def _pipeline(url: str, count: int) -> dict[str, float]:
    nc = await nats.connect(url, name="bench-raw-pub")
    consumer_nc = await nats.connect(url, name="bench-raw-sub")
    js, cjs = nc.jetstream(), consumer_nc.jetstream()
    await js.add_stream(StreamConfig(name="RAW", subjects=["raw.>"], storage=StorageType.FILE))
    await js.add_consumer(
        "RAW",
        ConsumerConfig(durable_name="raw", ack_policy=AckPolicy.EXPLICIT, max_ack_pending=10_000),
    )
    sub = await cjs.pull_subscribe_bind("raw", stream="RAW")
    done = asyncio.Event()
    acked = 0

    async def consume() -> None:
        nonlocal acked
        while acked < count:
            try:
                msgs = await sub.fetch(256, timeout=0.05)
            except TimeoutError:
                continue
            for msg in msgs:
                await msg.ack()
            acked += len(msgs)
        done.set()

    start = time.perf_counter()
    consumer = asyncio.create_task(consume())
    window = 500
    for first in range(0, count, window):
        n = min(window, count - first)
        await asyncio.gather(*(js.publish(f"raw.{(first + i) % 8}", PAYLOAD) for i in range(n)))
    published = time.perf_counter() - start
    await done.wait()
    await consumer_nc.flush()
    elapsed = time.perf_counter() - start
    await consumer
    await sub.unsubscribe()
    await nc.close()
    await consumer_nc.close()
    return {
        "raw_publish_msgs_per_s": count / published,
        "raw_pipeline_msgs_per_s": count / elapsed,
    }


def nats_pipeline(folder: Path, count: int) -> dict[str, float]:
    server = EmbeddedNats(store_dir=folder / "raw-nats")
    server.start()
    try:
        return asyncio.run(_pipeline(server.url, count))
    finally:
        server.stop()


class Counter(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int, note: str) -> None:
        self.count += by


def _app(path: Path) -> Application[Any]:
    return Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "IS_SNAPSHOTTING_ENABLED": "n",
        }
    )


NOTE = "y" * 300  # about the size of a CaseFile event's state


def eventsourcing_appends(folder: Path, events: int) -> dict[str, float]:
    app = _app(folder / "raw-eventsourcing.sqlite")
    try:
        start = time.perf_counter()
        for _ in range(max(1, events // 100)):
            counter = Counter(name="bench")
            for _ in range(99):
                counter.increment(by=1, note=NOTE)
            app.save(counter)
        per_100 = (max(1, events // 100) * 100) / (time.perf_counter() - start)

        single = max(200, events // 20)
        start = time.perf_counter()
        for _ in range(single):
            app.save(Counter(name="bench"))
        per_1 = single / (time.perf_counter() - start)

        long = Counter(name="long")
        for _ in range(999):
            long.increment(by=1, note=NOTE)
        app.save(long)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            app.repository.get(long.id)
            best = min(best, time.perf_counter() - start)
    finally:
        app.close()
    return {
        "raw_ledger_events_per_s": per_100,
        "raw_ledger_events_per_s_1_per_commit": per_1,
        "raw_replay_1000_ms": best * 1000,
    }


def run(folder: Path, quick: bool) -> dict[str, float]:
    figures = nats_pipeline(folder, 20_000 if quick else 100_000)
    figures.update(eventsourcing_appends(folder, 5_000 if quick else 30_000))
    return figures
