"""Ledger workers on one PostgreSQL store, under load: one SIGKILLed while it holds partitions,
and a third worker started for partitions another already holds.

`ventanilla up --ledger-workers 2` runs `ventanilla ledger 0-3` and `ventanilla ledger 4-7`,
each preferring half of the 8 partitions and standing by for the other half. Each scenario runs
the fault suite's 500 mixed cases over HTTP and ends with every accepted case final once and
every back-office effect done once.
"""

import asyncio
import random
import subprocess
from pathlib import Path

import pytest

from harness.up import UpStack, cli_env, ventanilla, ventanilla_up
from services.bus.permissions import LEDGER
from services.datadir import DataDir
from services.stack.nats_config import USERS_DIR, seed_file

from .postgres import fresh_database
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

FIRST, SECOND = "ventanilla ledger 0-3", "ventanilla ledger 4-7"


def extra_worker(stack: UpStack, partitions: str) -> subprocess.Popen[bytes]:
    """One more ledger worker on the stack's store and bus, as an operator would start it."""
    folder = DataDir(stack.data_dir)
    users = folder.nats_store / USERS_DIR
    command = [
        *ventanilla(),
        "serve",
        "ledger",
        "--data-dir",
        str(stack.data_dir),
        "--nats-url",
        stack.credentials.nats_url,
        "--credentials",
        str(seed_file(users, LEDGER)),
        "--partitions",
        partitions,
    ]
    log = (stack.data_dir.parent / "extra-worker.log").open("ab")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=cli_env())


async def test_a_ledger_worker_killed_while_it_holds_partitions(
    tmp_path: Path, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 31)
    with fresh_database() as url, ventanilla_up(tmp_path, store=url, ledger_workers=2) as stack:
        stack.child(SECOND)  # both workers run

        async def fault(progress: Progress) -> None:
            await progress.reached(random_point(rng, 0.2, 0.6))
            # Meanwhile the other worker takes partitions 0-3 over.
            await kill_and_await_restart(stack, FIRST, progress)

        tally = await run_scenario(
            "ledger worker killed while it holds partitions",
            load=http_load(stack, SEED + 31),
            fault=fault,
            stack=stack,
            results_file=results_file,
        )
    assert_nothing_lost_or_doubled(tally)


async def test_a_third_ledger_worker_started_for_partitions_another_holds(
    tmp_path: Path, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 32)
    with fresh_database() as url, ventanilla_up(tmp_path, store=url, ledger_workers=2) as stack:
        extra: list[subprocess.Popen[bytes]] = []

        async def fault(progress: Progress) -> None:
            await progress.reached(random_point(rng, 0.1, 0.3))
            extra.append(extra_worker(stack, "0-3"))
            progress.note(f"a third worker for partitions 0-3 started (pid {extra[0].pid})")
            await progress.reached(random_point(rng, 0.5, 0.7))
            pid = stack.kill(FIRST)
            progress.note(f"SIGKILL {FIRST} (pid {pid}): the third one or {SECOND} takes 0-3")

        try:
            tally = await run_scenario(
                "a third ledger worker for partitions another holds",
                load=http_load(stack, SEED + 32),
                fault=fault,
                stack=stack,
                results_file=results_file,
            )
        finally:
            running = [process.poll() is None for process in extra]
            for process in extra:
                process.terminate()
                await asyncio.to_thread(process.wait, 30)
        # It stood by (or took over) until it was told to stop, then stopped cleanly.
        assert running == [True]
        assert extra[0].returncode == 0
    assert_nothing_lost_or_doubled(tally)
