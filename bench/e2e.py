"""End to end: an open-loop load generator against a running stack, as `ventanilla up` runs it.

The stack is the real one (services/stack/up.py): nats-server with per-role users, the ledger on
SQLite and one adapter per entity as separate processes, and the HTTP gateway. Cases enter on
NATS (a SubmitCase command, as the gateway publishes it) or through `POST /v1/cases`; a case is
done when the ledger announces `CaseCompleted` or `CaseRejected` on the events stream. Latency
runs from the moment a case was *due* to be sent (open loop: a slow bus does not slow the load
down and hide its own queueing) to that announcement.
"""

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from nats.aio.client import Client
from nats.aio.msg import Msg

from bench import console
from harness.commands import submit_command
from harness.devstack import local_stack
from harness.postgres import fresh_database
from harness.procfs import CLOCK_TICKS, children_of, cpu_ticks
from schemas import subjects
from schemas.cases import case_id_for, submit_msg_id
from schemas.event_types import EventType
from services.bus.connection import BusLogin, connect
from services.bus.permissions import ADMIN
from services.credentials import Principal
from services.stack.nats_config import seed_file
from services.stack.up import StackInfo
from services.tokens import issue_token

CHANNEL = "mac-lima-norte"
PROCEDURES: dict[str, dict[str, Any]] = {
    "duplicado-dni": {"reason": "perdida"},
    "transferencia-vehicular": {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000},
}
BUYER = "40000001"  # completes everywhere (see README, demo citizens)


@dataclass
class Completions:
    """Cases announced done by the ledger, with when this process saw the announcement."""

    seen: dict[str, tuple[float, str]] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_event(self, msg: Msg) -> None:
        body = json.loads(msg.data)
        self.seen[body["envelope"]["case_id"]] = (time.perf_counter(), body["type"])
        self.arrived.set()


@dataclass
class Run:
    procedure: str
    path: str  # "nats" or "http"
    rate: float
    sent: int
    completed: int
    rejected: int
    cases_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    seconds: float

    @property
    def sustained(self) -> bool:
        return self.completed == self.sent and self.cases_per_s >= 0.9 * self.rate


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


Sender = Callable[[int], Coroutine[Any, Any, str]]


class LoadGenerator:
    def __init__(self, info: StackInfo) -> None:
        self.info = info
        self.completions = Completions()
        self.nc: Client | None = None
        self.http: httpx.AsyncClient | None = None
        self.token = ""
        self.console: tuple[httpx.AsyncClient, str] | None = None

    async def __aenter__(self) -> "LoadGenerator":
        login = BusLogin.from_seed_file(seed_file(self.info.nats_users, ADMIN))
        self.nc = await connect(self.info.nats_url, "bench-load", login=login)
        for event_type in (EventType.CASE_COMPLETED, EventType.CASE_REJECTED):
            await self.nc.subscribe(subjects.event(event_type), cb=self.completions.on_event)
        _, self.token = issue_token(
            self.info.data_dir.gateway_tokens,
            Principal(kind="channel", id=CHANNEL),
            rate_per_minute=1_000_000_000,
        )
        self.http = httpx.AsyncClient(
            base_url=self.info.gateway_url,
            headers={"Authorization": f"Bearer {self.token}"},
            limits=httpx.Limits(
                max_connections=console.CONNECTIONS,
                max_keepalive_connections=console.CONNECTIONS,
            ),
            timeout=30.0,
        )
        self.console = await console.logged_in(self.info)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.console is not None:
            await self.console[0].aclose()
        if self.http is not None:
            await self.http.aclose()
        if self.nc is not None:
            await self.nc.drain()

    async def stream_sequences(self, streams: tuple[str, ...] = subjects.OBSERVED_STREAMS) -> int:
        assert self.nc is not None
        js = self.nc.jetstream()
        total = 0
        for stream in streams:
            info = await js.stream_info(stream)
            total += info.state.last_seq
        return total

    def nats_sender(self, procedure: str, count: int) -> tuple[list[str], Sender]:
        """Commands serialized beforehand, so the generator spends its time sending."""
        assert self.nc is not None
        js = self.nc.jetstream()
        inputs = PROCEDURES[procedure]
        commands = [
            submit_command(BUYER, channel=CHANNEL, procedure=procedure, inputs=inputs)
            for _ in range(count)
        ]
        payloads = [c.model_dump_json().encode() for c in commands]
        ids = [str(c.envelope.case_id) for c in commands]
        msg_ids = [submit_msg_id(c.envelope.case_id) for c in commands]
        subject_of = [subjects.submit_case(CHANNEL, c.envelope.case_id) for c in commands]

        async def send(i: int) -> str:
            await js.publish(
                subject_of[i], payloads[i], timeout=30.0, headers={"Nats-Msg-Id": msg_ids[i]}
            )
            return ids[i]

        return ids, send

    def http_sender(self, procedure: str, count: int) -> tuple[list[str], Sender]:
        assert self.http is not None
        http = self.http
        keys = [uuid.uuid4().hex for _ in range(count)]
        ids = [str(case_id_for(CHANNEL, k)) for k in keys]
        body = {
            "procedure": procedure,
            "citizen": {"document_type": "DNI", "document_number": BUYER},
            "inputs": PROCEDURES[procedure],
        }

        async def send(i: int) -> str:
            # A dropped connection is retried with the same key, as a channel would: same case.
            for attempt in range(5):
                try:
                    response = await http.post(
                        "/v1/cases", json=body, headers={"Idempotency-Key": keys[i]}
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.1 * (attempt + 1))
                    continue
                if response.status_code != 202:
                    raise RuntimeError(f"gateway answered {response.status_code}: {response.text}")
                return ids[i]
            raise RuntimeError("the gateway kept dropping the connection")

        return ids, send

    async def run(
        self, procedure: str, path: str, rate: float, seconds: float, drain: float = 60.0
    ) -> Run:
        count = max(1, round(rate * seconds))
        if path == "console":
            assert self.console is not None
            ids, send = console.console_sender(*self.console, count)
        else:
            factory = self.nats_sender if path == "nats" else self.http_sender
            ids, send = factory(procedure, count)
        if path != "nats":
            send = _in_flight_at_most(console.CONNECTIONS, send)
        due: dict[str, float] = {}
        tasks: list[asyncio.Task[str]] = []
        start = time.perf_counter() + 0.05
        for i in range(count):
            at = start + i / rate
            wait = at - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            due[ids[i]] = at
            tasks.append(asyncio.create_task(send(i)))
        await asyncio.gather(*tasks)
        deadline = time.perf_counter() + drain
        seen = self.completions.seen
        while time.perf_counter() < deadline and any(i not in seen for i in ids):
            self.completions.arrived.clear()
            try:
                await asyncio.wait_for(self.completions.arrived.wait(), timeout=1.0)
            except TimeoutError:
                continue
        done = [seen[i] for i in ids if i in seen]
        latencies = [(t - due[i]) * 1000 for i in ids if i in seen for t in (seen[i][0],)]
        last = max((t for t, _ in done), default=time.perf_counter())
        return Run(
            procedure=procedure,
            path=path,
            rate=rate,
            sent=count,
            completed=len(done),
            rejected=sum(1 for _, kind in done if kind == EventType.CASE_REJECTED),
            cases_per_s=len(done) / max(last - start, 1e-9),
            p50_ms=percentile(latencies, 0.50),
            p95_ms=percentile(latencies, 0.95),
            p99_ms=percentile(latencies, 0.99),
            seconds=last - start,
        )

    async def search(
        self, procedure: str, path: str, start: float, seconds: float, steps: int, cap: float
    ) -> list[Run]:
        """Raise the offered rate by half each step until the bus no longer keeps up."""
        runs: list[Run] = []
        rate = start
        for _ in range(steps):
            run = await self.run(procedure, path, rate, seconds)
            runs.append(run)
            print(_line(run), flush=True)
            if not run.sustained or rate >= cap:
                break
            rate = min(cap, rate * 1.5)
        return runs


def _in_flight_at_most(limit: int, send: Sender) -> Sender:
    """`send`, with the requests beyond `limit` waiting here (in order, for nothing) rather
    than in the HTTP client's pool; their latency still counts from when they were due."""
    gate = asyncio.Semaphore(limit)

    async def gated(i: int) -> str:
        async with gate:
            return await send(i)

    return gated


def _line(run: Run) -> str:
    return (
        f"  {run.procedure:<24} {run.path:<4} offered {run.rate:7.0f}/s  done {run.completed}/"
        f"{run.sent}  {run.cases_per_s:7.1f} cases/s  p50 {run.p50_ms:7.1f} ms  "
        f"p99 {run.p99_ms:8.1f} ms{'' if run.sustained else '  (not sustained)'}"
    )


# --- CPU of each process ---------------------------------------------------------------------


def _children() -> dict[int, str]:
    """Our child processes (the stack's) by pid, named by their command line."""
    me = os.getpid()
    found = {pid: _name(argv) for pid, argv in children_of(me).items()}
    found[me] = "load generator (bench)"
    return found


def _name(argv: str) -> str:
    if "nats-server" in argv:
        return "nats-server"
    if argv.startswith("ventanilla "):
        return argv.removeprefix("ventanilla ")
    parts = argv.split()
    if "serve" in parts:  # before setproctitle renamed it
        return " ".join(parts[parts.index("serve") + 1 : parts.index("serve") + 3])
    return argv[:40]


class CpuSample:
    def __init__(self) -> None:
        self.names = _children()
        self.start = time.perf_counter()
        self.ticks = {pid: cpu_ticks(pid) for pid in self.names}

    def seconds(self) -> dict[str, float]:
        """CPU seconds each process (by name) used since the sample began."""
        used: dict[str, float] = {}
        for pid, name in self.names.items():
            used[name] = used.get(name, 0.0) + (cpu_ticks(pid) - self.ticks[pid]) / CLOCK_TICKS
        return used

    def percent(self) -> dict[str, float]:
        wall = time.perf_counter() - self.start
        usage = {name: round(100 * s / wall, 1) for name, s in self.seconds().items()}
        return dict(sorted(usage.items(), key=lambda item: -item[1]))

    def ms_per_case(self, cases: int) -> dict[str, float]:
        """CPU milliseconds per case, per process, with the stack's total as `all`."""
        used = {name: round(1000 * s / max(cases, 1), 2) for name, s in self.seconds().items()}
        used = dict(sorted(used.items(), key=lambda item: -item[1]))
        return {**used, "all": round(sum(used.values()), 2)}

    def role_seconds(self, role: str) -> float:
        """CPU seconds used since the sample began by the processes whose name starts with role."""
        return sum(s for name, s in self.seconds().items() if name.startswith(role))


# --- the suite ---------------------------------------------------------------------------------


async def _suite(info: StackInfo, quick: bool, latency_rate: float) -> dict[str, Any]:
    seconds = 3.0 if quick else 10.0
    async with LoadGenerator(info) as load:
        print("e2e: warm-up", flush=True)
        await load.run("duplicado-dni", "nats", 20, 1.0)

        print("e2e: max-rate search, duplicado-dni on NATS", flush=True)
        before = await load.stream_sequences()
        runs = await load.search("duplicado-dni", "nats", 100, seconds, 4 if quick else 8, cap=4000)
        cases = sum(r.completed for r in runs)
        msgs_per_case = (await load.stream_sequences() - before) / max(cases, 1)
        best = max(runs, key=lambda r: r.cases_per_s)

        rate = min(latency_rate, 0.7 * best.cases_per_s)
        print(f"e2e: fixed rate {rate:.0f}/s, duplicado-dni on NATS, CPU per process", flush=True)
        cpu = CpuSample()
        requests_before = await load.stream_sequences((subjects.WORK_STREAM,))
        fixed = await load.run("duplicado-dni", "nats", rate, seconds * 1.5)
        cpu_percent = cpu.percent()
        cpu_ms_per_case = cpu.ms_per_case(fixed.completed + fixed.rejected)
        # Every step request on the work stream is handled by one adapter process.
        requests = await load.stream_sequences((subjects.WORK_STREAM,)) - requests_before
        adapter_cpu_us = 1e6 * cpu.role_seconds("adapter") / max(requests, 1)
        print(_line(fixed), flush=True)

        print("e2e: max-rate search, duplicado-dni through the HTTP gateway", flush=True)
        http_runs = await load.search(
            "duplicado-dni", "http", 100, seconds, 3 if quick else 6, cap=4000
        )
        print("e2e: max-rate search, duplicado-dni through the counter console", flush=True)
        console_runs = await load.search(
            "duplicado-dni", "console", 100, seconds, 3 if quick else 6, cap=4000
        )
        print("e2e: max-rate search, transferencia-vehicular on NATS", flush=True)
        transfer_runs = await load.search(
            "transferencia-vehicular", "nats", 50, seconds, 2 if quick else 6, cap=2000
        )
    http_best = max(http_runs, key=lambda r: r.cases_per_s)
    console_best = max(console_runs, key=lambda r: r.cases_per_s)
    transfer_best = max(transfer_runs, key=lambda r: r.cases_per_s)
    return {
        "e2e_cases_per_s": best.cases_per_s,
        "e2e_latency_rate": rate,
        "e2e_p50_ms": fixed.p50_ms,
        "e2e_p95_ms": fixed.p95_ms,
        "e2e_p99_ms": fixed.p99_ms,
        "e2e_fixed_rate_cases_per_s": fixed.cases_per_s,
        "bus_msgs_per_case": msgs_per_case,
        "http_cases_per_s": http_best.cases_per_s,
        "console_cases_per_s": console_best.cases_per_s,
        "console_ratio_to_http": console_best.cases_per_s / max(http_best.cases_per_s, 1e-9),
        "transfer_cases_per_s": transfer_best.cases_per_s,
        "cpu_percent": cpu_percent,
        "cpu_ms_per_case": cpu_ms_per_case,
        "adapter_cpu_us_per_request": adapter_cpu_us,
        "runs": [r.__dict__ for r in [*runs, fixed, *http_runs, *console_runs, *transfer_runs]],
    }


def run(folder: Path, quick: bool, latency_rate: float = 500.0) -> dict[str, Any]:
    print("e2e: starting the stack (nats-server, ledger, 6 adapters, gateway)", flush=True)
    with local_stack(folder / "stack") as info:
        return asyncio.run(_suite(info, quick, latency_rate))


# How many ledger workers the PostgreSQL runs measure: `pg_e2e_cases_per_s_<workers>`, each
# on a fresh database, one after the other in the same run.
PG_LEDGER_WORKERS = (1, 2)


async def _pg_suite(info: StackInfo, quick: bool) -> float:
    async with LoadGenerator(info) as load:
        await load.run("duplicado-dni", "nats", 20, 1.0)
        runs = await load.search(
            "duplicado-dni", "nats", 100, 3.0 if quick else 10.0, 4 if quick else 8, cap=4000
        )
    return max(r.cases_per_s for r in runs)


def run_postgres(folder: Path, quick: bool, dsn: str) -> dict[str, Any]:
    """The max-rate search with the ledger on a fresh database of `dsn`'s server."""
    found: dict[str, Any] = {}
    for workers in PG_LEDGER_WORKERS:
        print(f"e2e: the stack with the ledger on PostgreSQL, {workers} worker(s)", flush=True)
        with (
            fresh_database(dsn, "ventanilla_bench") as url,
            local_stack(folder / f"pg-stack-{workers}", store=url, ledger_workers=workers) as info,
        ):
            found[f"pg_e2e_cases_per_s_{workers}"] = asyncio.run(_pg_suite(info, quick))
    return found
