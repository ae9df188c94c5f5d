"""Faults in a running `ventanilla up`: SIGKILL of one of its processes at a random moment under
a steady load of mixed cases, a restart by its supervisor, then the count: nothing lost, nothing
recorded or done twice.
"""

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.up import UpStack, ventanilla_up
from services.stack.natsd import nats_server_binary

from .scenario import (
    SEED,
    Progress,
    assert_nothing_lost_or_doubled,
    http_load,
    kill_and_await_restart,
    random_point,
    run_scenario,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


@pytest.fixture
def stack(tmp_path: Path, ledger_store: str | None) -> Iterator[UpStack]:
    with ventanilla_up(tmp_path, store=ledger_store) as running:
        yield running


async def test_an_adapter_killed_twice_in_a_row(stack: UpStack, results_file: Path | None) -> None:
    rng = random.Random(SEED + 1)
    victim = "ventanilla adapter banco-nacion"  # every procedure but one pays a fee

    async def fault(progress: Progress) -> None:
        await progress.reached(random_point(rng, 0.1, 0.4))
        for round_ in (1, 2):
            await kill_and_await_restart(stack, victim, progress, round_=f", kill {round_} of 2")
            await asyncio.sleep(rng.uniform(0.2, 2.0))

    tally = await run_scenario(
        "adapter killed twice",
        load=http_load(stack, SEED + 1),
        fault=fault,
        stack=stack,
        results_file=results_file,
    )
    assert_nothing_lost_or_doubled(tally)


async def test_the_ledger_killed_between_save_and_publish(
    tmp_path: Path, ledger_store: str | None, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 2)
    # The ledger commits a batch of whatever is waiting (group commit), so 500 cases take a few
    # hundred saves or fewer, the fewer the busier it is: crash at one of the first few dozen.
    crash_at = rng.randint(20, 80)
    marker = tmp_path / "failpoint-fired"
    env = {
        "VENTANILLA_FAILPOINTS": f"ledger.after-save={crash_at}",
        "VENTANILLA_FAILPOINTS_ONCE": str(marker),
    }
    with ventanilla_up(tmp_path, env, ledger_store) as stack:
        first = stack.child("ventanilla ledger")

        async def fault(progress: Progress) -> None:
            while not marker.exists():
                await asyncio.sleep(0.05)
            progress.note(f"ledger died at its save #{crash_at}, before publishing it")
            new = await stack.wait_restarted("ventanilla ledger", first)
            progress.note(f"ledger restarted (pid {new})")

        tally = await run_scenario(
            "ledger killed between save and publish",
            load=http_load(stack, SEED + 2),
            fault=fault,
            stack=stack,
            results_file=results_file,
        )
    assert_nothing_lost_or_doubled(tally)


async def test_the_ledger_killed_while_consuming_results(
    stack: UpStack, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 3)

    async def fault(progress: Progress) -> None:
        await progress.reached(random_point(rng, 0.3, 0.8))
        await kill_and_await_restart(stack, "ventanilla ledger", progress)

    tally = await run_scenario(
        "ledger killed while consuming results",
        load=http_load(stack, SEED + 3),
        fault=fault,
        stack=stack,
        results_file=results_file,
    )
    assert_nothing_lost_or_doubled(tally)


async def test_the_gateway_killed_while_clients_retry_with_the_same_key(
    stack: UpStack, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 4)

    async def fault(progress: Progress) -> None:
        for round_ in (1, 2):
            await progress.reached(random_point(rng, 0.2 * round_, 0.2 * round_ + 0.2))
            gateway, kill = "ventanilla gateway", f", kill {round_} of 2"
            await kill_and_await_restart(stack, gateway, progress, round_=kill)

    load = http_load(stack, SEED + 4)
    tally = await run_scenario(
        "gateway killed twice, clients retry with the same key",
        load=load,
        fault=fault,
        stack=stack,
        results_file=results_file,
    )
    assert_nothing_lost_or_doubled(tally)


async def test_the_nats_server_killed_and_restarted_on_its_store(
    stack: UpStack, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 5)
    server = str(nats_server_binary())

    async def fault(progress: Progress) -> None:
        await progress.reached(random_point(rng, 0.2, 0.6))
        # `up` starts it again on the same store and ports.
        await kill_and_await_restart(stack, server, progress, name="nats-server")

    tally = await run_scenario(
        "nats-server killed, restarted on its file store",
        load=http_load(stack, SEED + 5),
        fault=fault,
        stack=stack,
        results_file=results_file,
    )
    assert_nothing_lost_or_doubled(tally)
