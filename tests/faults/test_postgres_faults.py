"""The ledger's PostgreSQL stopped under load and started again a few seconds later.

The server is the test's own (initdb in a temp dir), so stopping it touches nothing else. It is
stopped with `-m immediate`, as a crash would stop it: every session is cut, nothing is flushed
beyond the WAL, and the next start recovers from it. `ventanilla up` keeps the ledger running
(or restarts it) meanwhile; afterwards every accepted case is final once.
"""

import asyncio
import random
from pathlib import Path

import pytest

from harness.up import ventanilla_up

from .postgres import own_postgres
from .scenario import (
    SEED,
    Progress,
    assert_nothing_lost_or_doubled,
    http_load,
    random_point,
    run_scenario,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


async def test_the_ledgers_postgresql_restarted_under_load(
    tmp_path: Path, results_file: Path | None
) -> None:
    rng = random.Random(SEED + 21)
    with own_postgres() as server, ventanilla_up(tmp_path, store=server.url) as stack:

        async def fault(progress: Progress) -> None:
            await progress.reached(random_point(rng, 0.2, 0.5))
            await asyncio.to_thread(server.stop, "immediate")
            progress.note(f"PostgreSQL stopped (-m immediate), port {server.port}")
            await asyncio.sleep(rng.uniform(3.0, 5.0))
            await asyncio.to_thread(server.start)
            progress.note("PostgreSQL started again, recovered from its WAL")

        tally = await run_scenario(
            "PostgreSQL of the ledger stopped and started again",
            load=http_load(stack, SEED + 21),
            fault=fault,
            stack=stack,
            results_file=results_file,
        )
    assert_nothing_lost_or_doubled(tally)
