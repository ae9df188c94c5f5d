"""Faults around SUNARP's HTTP back office in a running `ventanilla up`.

- The back office (its own process, its own SQLite store) is SIGKILLed twice under a load of
  vehicle transfers and restarted by `up`: the adapter's client retries with the same
  idempotency key, so every transfer is registered exactly once.
- A transfer SUNARP accepted and answers later (demo citizen 40000008) survives SIGKILL of the
  SUNARP adapter, the back office and the ledger while it waits: the case completes once.
"""

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from harness.up import UpStack, ventanilla_up
from schemas.event_types import EventType
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.entity_adapters.backoffices import demo

from .checker import check, record
from .load import CITIZENS, LoadReport, mixed_orders, submit_over_http
from .scenario import SEED, Progress, kill_and_await_restart, run_scenario

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

TRANSFERS = 200  # each one calls SUNARP's back office four times
BACK_OFFICE = "ventanilla backoffice sunarp"


@pytest.fixture
def stack(tmp_path: Path, ledger_store: str | None) -> Iterator[UpStack]:
    with ventanilla_up(tmp_path, store=ledger_store) as running:
        yield running


async def test_the_http_back_office_killed_twice_under_a_load_of_transfers(
    stack: UpStack, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 11)
    # Every demo citizen, 40000008 too: its transfers are decided by the back office later.
    citizens = (*CITIZENS, demo.SUNARP_ANSWERS_LATER)
    orders = mixed_orders(TRANSFERS, SEED + 11, ("transferencia-vehicular",), citizens)

    async def load(progress: Progress) -> LoadReport:
        return await submit_over_http(
            stack.credentials.gateway_url,
            stack.token,
            orders,
            rate=25.0,  # 8 s of load: both kills strike while transfers still arrive
            on_accepted=progress.update,
        )

    async def fault(progress: Progress) -> None:
        for round_ in (1, 2):
            await progress.reached(int(TRANSFERS * rng.uniform(0.2 * round_, 0.2 * round_ + 0.2)))
            kill = f", kill {round_} of 2"
            await kill_and_await_restart(stack, BACK_OFFICE, progress, round_=kill)
            await asyncio.sleep(rng.uniform(1.5, 3.0))  # serving again before the next kill

    tally = await run_scenario(
        "SUNARP's HTTP back office killed twice",
        load=load,
        fault=fault,
        stack=stack,
        results_file=results_file,
    )
    assert tally.clean, tally.problems
    assert tally.final == tally.submitted == TRANSFERS
    # The kills did hit calls in flight: the adapter had to retry them.
    adapter_log = (stack.data_dir / "logs" / "adapter-sunarp.log").read_text()
    assert adapter_log.count('"back office retry"') > 0


def inscription_events(stack: UpStack, case_id: UUID) -> list[str]:
    ledger = CaseLedger(catalog(), stack.store.environment())
    try:
        if not ledger.is_recorded(case_id):
            return []
        history = ledger.case_history(case_id)
    finally:
        ledger.close()
    return [e.type for e in history.events if e.data.get("step_id") == "inscripcion"]


async def wait_for(stack: UpStack, case_id: UUID, event: str, within: float) -> list[str]:
    async with asyncio.timeout(within):
        while event not in (events := await asyncio.to_thread(inscription_events, stack, case_id)):
            await asyncio.sleep(0.2)
    return events


async def test_an_accepted_transfer_survives_its_adapter_back_office_and_ledger_dying(
    stack: UpStack, results_file: Path | None
) -> None:
    started = time.monotonic()
    [order] = mixed_orders(1, SEED + 12, ("transferencia-vehicular",), (demo.SUNARP_ANSWERS_LATER,))
    report = await submit_over_http(stack.credentials.gateway_url, stack.token, [order])
    case_id = order.case_id()
    assert report.accepted == [case_id]

    await wait_for(stack, case_id, EventType.STEP_ACCEPTED, within=30)
    victims = ("ventanilla adapter sunarp", BACK_OFFICE, "ventanilla ledger")
    killed = {title: stack.kill(title) for title in victims}  # while SUNARP is deciding
    for title, pid in killed.items():
        await stack.wait_restarted(title, pid)

    events = await wait_for(stack, case_id, EventType.STEP_COMPLETED, within=90)
    await asyncio.sleep(2.0)  # room for an answer that would be applied twice
    assert inscription_events(stack, case_id) == events
    assert events == [EventType.STEP_DISPATCHED, EventType.STEP_ACCEPTED, EventType.STEP_COMPLETED]
    tally = check(
        "accepted transfer, adapter + back office + ledger killed",
        stack.store,
        stack.backoffices,
        [case_id],
        time.monotonic() - started,
    )
    record(tally, results_file)
    assert tally.clean, tally.problems
    assert tally.final == 1
