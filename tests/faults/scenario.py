"""One fault scenario: a steady load, a fault at a random moment while it runs, then the count.

The fault is a coroutine given a `Progress` it can wait on ("after 120 accepted cases"), so it
strikes while cases are in every stage: being submitted, waiting on entities, being recorded.
"""

import asyncio
import os
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from harness.stackfiles import StackFiles
from harness.up import UpStack
from services.case_ledger.store import LedgerStore

from .checker import FinalWatch, Tally, check, record
from .load import LoadReport, mixed_orders, submit_over_http

# Cases per scenario; VENTANILLA_FAULT_CASES raises it for a longer local run.
CASES = int(os.environ.get("VENTANILLA_FAULT_CASES", "500"))
SEED = int(os.environ.get("VENTANILLA_FAULT_SEED", "20261130"))


@dataclass
class Progress:
    """How far the load has got, for a fault to strike at a chosen point."""

    accepted: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    log: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def update(self, accepted: int) -> None:
        self.accepted = accepted
        self.changed.set()

    async def reached(self, accepted: int) -> None:
        while self.accepted < accepted:
            self.changed.clear()
            await self.changed.wait()

    def note(self, what: str) -> None:
        line = f"{time.monotonic() - self.started:6.1f}s  {self.accepted:4d} accepted  {what}"
        self.log.append(line)
        print(line)


def random_point(rng: random.Random, low: float = 0.1, high: float = 0.6) -> int:
    """A number of accepted cases somewhere in the middle of the load."""
    return int(CASES * rng.uniform(low, high))


Load = Callable[[Progress], Coroutine[Any, Any, LoadReport]]
Fault = Callable[[Progress], Coroutine[Any, Any, None]]


async def run_scenario(
    name: str,
    *,
    load: Load,
    fault: Fault,
    stack: StackFiles,
    results_file: Path | None,
    settle_within: float = 240.0,
) -> Tally:
    """Run the load and the fault together, wait until every accepted case is final (or
    `settle_within` seconds pass), and count in the stack's ledger and back offices."""
    store, backoffices = stack.store, stack.backoffices
    progress = Progress()
    fault_task = asyncio.create_task(fault(progress), name=f"fault {name}")
    report = await load(progress)
    await fault_task  # the fault must have struck (and recovered) before the count
    progress.note(f"load done: {len(report.accepted)} accepted, {report.retries} retries")
    await _settle(store, report.accepted, settle_within)
    await asyncio.sleep(1.0)  # room for anything that would be done twice
    progress.note("settled")
    tally = check(name, store, backoffices, report.accepted, time.monotonic() - progress.started)
    tally.submitted = len(report.accepted)
    if report.given_up:
        # A channel that could not submit at all would call; the count shows it, the test fails.
        tally.lost += len(report.given_up)
        tally.problems.append(f"{len(report.given_up)} cases never accepted by the gateway")
    record(tally, results_file)
    return tally


async def kill_and_await_restart(
    stack: UpStack, title: str, progress: Progress, *, name: str | None = None, round_: str = ""
) -> int:
    """SIGKILL the child titled `title` (`name` in the notes), then wait until `up` has started
    it again; its new pid."""
    name = name or title
    pid = stack.kill(title)
    progress.note(f"SIGKILL {name} (pid {pid}){round_}")
    new = await stack.wait_restarted(title, pid)
    progress.note(f"{name} restarted (pid {new})")
    return new


def assert_nothing_lost_or_doubled(tally: Tally) -> None:
    """What every scenario must show: each accepted case final once, each effect done once."""
    assert tally.clean, tally.problems
    assert tally.final == tally.submitted >= CASES


async def _settle(store: LedgerStore, accepted: list[UUID], within: float) -> None:
    watch = FinalWatch(store)
    wanted = set(accepted)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        final = await asyncio.to_thread(watch.refresh)
        if wanted <= final:
            return
        await asyncio.sleep(1.0)


def http_load(stack: UpStack, seed: int) -> Load:
    """CASES mixed cases over HTTP, each retried with its own Idempotency-Key until accepted."""
    orders = mixed_orders(CASES, seed)

    async def load(progress: Progress) -> LoadReport:
        return await submit_over_http(
            stack.credentials.gateway_url, stack.token, orders, on_accepted=progress.update
        )

    return load
