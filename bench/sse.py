"""Live status under load: one gateway process holds 1,000 SSE watchers while cases run.

The stack is the real one (as `ventanilla up` runs it). First 1,000 watchers connect to
`GET /v1/cases/{id}/events` of cases that stay open for the whole run: claims the gateway made
whose command the ledger has not received (their stream shows `submitted` and waits). Then cases
start at a fixed rate; each is claimed and followed by one more watcher (a counter page) before
its command is published, as the gateway does on `POST /v1/cases`, so every change the ledger
makes to it arrives through the gateway's one KV watch.

`sse_update_p99_ms` runs from the ledger's status change (the view's `updated_at`: the time of
the event that changed it, on the ledger) to the moment a watcher has parsed the event: ledger
commit, status projection, KV, the gateway's watch and fan-out, HTTP. The first event of each
stream (the state when it connected) is not a change and is not counted.
"""

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from bench.e2e import CHANNEL, CpuSample, LoadGenerator, percentile
from harness.commands import submit_command
from harness.devstack import local_stack
from schemas import sites, subjects
from schemas.cases import submit_msg_id
from schemas.messages import SubmitCase
from services.gateway.case_bus import claim_of
from services.gateway.claims import claim_key, claim_value
from services.stack.up import StackInfo

WATCHERS = 1000
RATE = 200.0
FINAL = ("completed", "rejected")


@dataclass
class Watch:
    """One SSE client on one case: what it received and when."""

    case_id: UUID
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    first: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False
    error: str | None = None


class Watchers:
    """Minimal SSE clients on raw sockets, so the load generator costs little next to the
    gateway: HTTP/1.1, chunked body, `id`/`event`/`data` fields."""

    def __init__(self, gateway_url: str, token: str) -> None:
        url = urlsplit(gateway_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.token = token
        self.open = 0
        self.most_open = 0

    async def watch(self, watch: Watch) -> None:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            watch.error = repr(exc)
            watch.first.set()
            return
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            writer.write(
                f"GET /v1/cases/{watch.case_id}/events HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            status = await reader.readline()
            if b" 200 " not in status:
                watch.error = status.decode().strip()
                return
            while (await reader.readline()) not in (b"\r\n", b""):
                pass  # the headers
            async for fields in _events(_chunks(reader)):
                if fields.get("event") != "case":
                    continue
                watch.events.append((time.time(), json.loads(fields["data"])))
                watch.first.set()
            watch.ended = True
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            watch.error = repr(exc)
        finally:
            watch.first.set()
            self.open -= 1
            writer.close()


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        yield data


async def _events(chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, str]]:
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            fields: dict[str, str] = {}
            for line in block.decode().split("\n"):
                if line and not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
            if fields:
                yield fields


async def gateway_watches(js: JetStreamContext) -> int:
    """The consumers on the status bucket's stream but the site relay's durable one (it forwards
    the views to the MAC Express sites): the gateway's watches."""
    consumers = await js.consumers_info(subjects.kv_stream(subjects.STATUS_BUCKET))
    return sum(1 for c in consumers if c.name != sites.RELAY_STATUSES_CONSUMER)


async def claim(kv: KeyValue, command: SubmitCase) -> None:
    """What the gateway records before it publishes the command (services/gateway)."""
    await kv.create(claim_key(command.envelope.case_id), claim_value(claim_of(command)))


def _delays_ms(watch: Watch) -> list[float]:
    """For each change after the first event: from the ledger's change to its arrival here."""
    return [
        (arrived - datetime.fromisoformat(view["updated_at"]).timestamp()) * 1000
        for arrived, view in watch.events[1:]
    ]


@dataclass
class Bench:
    load: LoadGenerator
    claims: KeyValue
    watchers: Watchers


async def _phase(bench: Bench, rate: float, seconds: float) -> dict[str, Any]:
    """Cases at `rate` for `seconds`, each followed by one watcher: the figures of that run."""
    load, claims, watchers = bench.load, bench.claims, bench.watchers
    assert load.nc is not None
    js = load.nc.jetstream()
    print(f"sse: {rate:.0f} cases/s for {seconds:.0f} s, each followed by a watcher", flush=True)
    count = round(rate * seconds)
    commands = [submit_command("40000001", channel=CHANNEL) for _ in range(count)]
    followed = [Watch(c.envelope.case_id) for c in commands]
    tasks: list[asyncio.Task[None]] = []

    async def start_case(command: SubmitCase, watch: Watch) -> None:
        await claim(claims, command)
        tasks.append(asyncio.create_task(watchers.watch(watch)))
        await watch.first.wait()  # the page shows `submitted`; now the ledger gets it
        case_id = command.envelope.case_id
        await js.publish(
            subjects.submit_case(CHANNEL, case_id),
            command.model_dump_json().encode(),
            timeout=30.0,
            headers={"Nats-Msg-Id": submit_msg_id(case_id)},
        )

    # Beside the watchers, a plain subscriber to the bucket's subjects: when each view reached
    # NATS, to tell the ledger's part of the delay from the gateway's.
    in_kv: dict[tuple[str, int], float] = {}

    async def on_view(msg: Msg) -> None:
        view = json.loads(msg.data)
        in_kv.setdefault((view["case_id"], view["version"]), time.time())

    kv_sub = await load.nc.subscribe(f"$KV.{subjects.STATUS_BUCKET}.>", cb=on_view)
    # And when the outbox relay announced the same version (the other follower of the log; it
    # announces a case's end only, so the final versions only).
    announced: dict[tuple[str, int], float] = {}

    async def on_event(msg: Msg) -> None:
        event = json.loads(msg.data)
        announced[(event["envelope"]["case_id"], event["version"])] = time.time()

    events_sub = await load.nc.subscribe(subjects.EVENTS_SUBJECTS, cb=on_event)
    load_average = os.getloadavg()[0]  # the machine is shared: say how busy it was
    cpu = CpuSample()
    watchers.most_open = watchers.open
    started = time.perf_counter()
    starting = []
    for i, (command, watch) in enumerate(zip(commands, followed, strict=True)):
        wait = started + i / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        starting.append(asyncio.create_task(start_case(command, watch)))
    await asyncio.gather(*starting)
    kv_watches = await gateway_watches(js)
    _, late = await asyncio.wait(tasks, timeout=120)
    elapsed = time.perf_counter() - started
    if late:
        print(f"sse: {len(late)} streams had not ended after 120 s", flush=True)
        for task in late:
            task.cancel()
    cpu_percent = cpu.percent()
    await kv_sub.unsubscribe()
    await events_sub.unsubscribe()

    delays = [d for w in followed for d in _delays_ms(w)]
    ids = {str(w.case_id) for w in followed}
    kv_writes = sum(1 for case_id, _ in in_kv if case_id in ids)
    announcements = sum(1 for case_id, _ in announced if case_id in ids)
    kv_delays = [
        (in_kv[key] - datetime.fromisoformat(view["updated_at"]).timestamp()) * 1000
        for w in followed
        for _, view in w.events[1:]
        if (key := (view["case_id"], view["version"])) in in_kv
    ]
    announced_delays = [
        (announced[key] - datetime.fromisoformat(view["updated_at"]).timestamp()) * 1000
        for w in followed
        for _, view in w.events[1:]
        if (key := (view["case_id"], view["version"])) in announced
    ]
    finished = [w for w in followed if w.events and w.events[-1][1]["status"] in FINAL]
    return {
        "update_p50_ms": percentile(delays, 0.50),
        "update_p95_ms": percentile(delays, 0.95),
        "update_p99_ms": percentile(delays, 0.99),
        "updates_measured": len(delays),
        "kv_write_p50_ms": percentile(kv_delays, 0.50),
        "kv_write_p99_ms": percentile(kv_delays, 0.99),
        "event_announced_p50_ms": percentile(announced_delays, 0.50),
        "event_announced_p99_ms": percentile(announced_delays, 0.99),
        "kv_writes_per_case": kv_writes / max(count, 1),
        "event_announcements_per_case": announcements / max(count, 1),
        "rate_cases_per_s": rate,
        "cases_per_s": len(finished) / elapsed,
        "cases_followed_to_the_end": len(finished),
        "cases_started": count,
        "most_open_streams": watchers.most_open,
        "kv_watches_on_the_server": kv_watches,
        "stream_errors": sum(1 for w in followed if w.error),
        "stream_error_sample": sorted({w.error for w in followed if w.error})[:3],
        "streams_not_ended": sum(1 for w in followed if not w.ended),
        "cpu_percent": cpu_percent,
        "load_average_at_start": round(load_average, 2),
    }


async def _suite(
    info: StackInfo, quick: bool, rate: float, sustainable: float | None
) -> dict[str, Any]:
    seconds = 5.0 if quick else 20.0
    async with LoadGenerator(info) as load:
        assert load.nc is not None
        claims = await load.nc.jetstream().key_value(subjects.IDEMPOTENCY_BUCKET)
        bench = Bench(load, claims, Watchers(info.gateway_url, load.token))
        print("sse: warm-up", flush=True)
        await load.run("duplicado-dni", "nats", 20, 1.0)

        print(f"sse: {WATCHERS} watchers on cases that stay open", flush=True)
        held = []
        for _ in range(WATCHERS // 100):
            group = [submit_command("40000001", channel=CHANNEL) for _i in range(100)]
            for command in group:
                await claim(claims, command)
            batch = [Watch(c.envelope.case_id) for c in group]
            held += [(w, asyncio.create_task(bench.watchers.watch(w))) for w in batch]
            async with asyncio.timeout(30):
                await asyncio.gather(*(w.first.wait() for w in batch))
        refused = [w.error for w, _ in held if w.error]
        if refused:
            raise RuntimeError(f"{len(refused)} watchers refused, e.g. {refused[0]}")

        results = {f"sse_{k}": v for k, v in (await _phase(bench, rate, seconds)).items()}
        if sustainable is not None and sustainable < rate:
            # Where the same run's e2e search found the stack's limit below `rate`: the same
            # figures at 70% of that limit, as the e2e latency run does.
            at = await _phase(bench, sustainable, seconds)
            results |= {f"sse_at_70pct_{k}": v for k, v in at.items()}
        results["sse_held_watchers"] = sum(1 for w, _ in held if not w.ended and w.error is None)
        for _, task in held:
            task.cancel()
        await asyncio.gather(*(t for _, t in held), return_exceptions=True)
    return results


def run(
    folder: Path, quick: bool, rate: float = RATE, sustainable: float | None = None
) -> dict[str, Any]:
    """`sustainable`: a rate the same run's e2e part sustained (the SSE run is repeated there
    when `rate` is above it)."""
    print("sse: starting the stack (nats-server, ledger, 6 adapters, gateway)", flush=True)
    with local_stack(folder / "sse-stack") as info:
        return asyncio.run(_suite(info, quick, rate, sustainable))
