"""Ledger workers partitioned by case on one PostgreSQL store.

The commands and results streams map each case to a partition (NATS's `partition()` subject
mapping); each worker holds some partitions by PostgreSQL advisory locks and reads only theirs.
These tests run real worker processes, a real nats-server and a real PostgreSQL.
"""

import asyncio
import signal
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.partitions import partition_of
from services.bus.topology import ensure_topology
from services.case_ledger.single_writer import ADVISORY_CLASS, partition_lock_class
from services.case_ledger.store import LedgerStore
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.conftest import POSTGRES_DSN
from tests.integration.stack import (
    assert_each_case_once,
    ledger_process,
    local_stack,
    stop,
    submit,
    wait_exit,
)

pytestmark = pytest.mark.integration

PARTITIONS = 8


async def test_the_streams_store_each_case_in_the_partition_the_ledger_computes(
    js: JetStreamContext,
) -> None:
    await ensure_topology(js, ledger_partitions=PARTITIONS)
    cases = [uuid4() for _ in range(200)]
    for case_id in cases:
        await js.publish(subjects.submit_case("mac-lima-norte", case_id), b"{}")
        await js.publish(subjects.result("reniec", "duplicado-dni", case_id), b"{}")
    for stream in (subjects.COMMANDS_STREAM, subjects.RESULTS_STREAM):
        sub = await js.pull_subscribe(">", stream=stream)
        stored = await sub.fetch(len(cases), timeout=10)
        seen = {}
        for msg in stored:
            *_, case_token, partition = msg.subject.split(".")
            seen[case_token] = int(partition)
        assert seen == {c.hex: partition_of(c, PARTITIONS) for c in cases}
        assert len(set(seen.values())) == PARTITIONS  # 200 cases reach every partition
        await sub.unsubscribe()


def lock_holders(store: LedgerStore) -> dict[int, set[int]]:
    """Partition -> the backend pids holding its advisory lock (the leader is -1)."""
    classes = {ADVISORY_CLASS: -1} | {partition_lock_class(p): p for p in range(PARTITIONS)}
    held: dict[int, set[int]] = {}
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT classid::bigint, pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND objsubid = 2"
        ).fetchall()
    for classid, pid in rows:
        if classid in classes:
            held.setdefault(classes[classid], set()).add(pid)
    return held


async def wait_for_holders(store: LedgerStore, sessions: int, within: float = 30.0) -> None:
    """Until every partition and the leader are held, by `sessions` sessions in all."""
    async with asyncio.timeout(within):
        while True:
            held = lock_holders(store)
            every = set(range(-1, PARTITIONS))
            if set(held) >= every and len(set().union(*held.values())) == sessions:
                return
            await asyncio.sleep(0.2)


async def test_two_workers_share_the_partitions_and_one_takes_over_when_the_other_is_killed(
    js: JetStreamContext, nats_server: EmbeddedNats, postgres_store: LedgerStore, tmp_path: Path
) -> None:
    store = postgres_store
    async with local_stack(
        store, nats_server.url, ledger=False, ledger_partitions=PARTITIONS
    ) as stack:
        first_log = tmp_path / "first.log"
        first = ledger_process(store, nats_server.url, log=first_log, partitions="0-3")
        second = ledger_process(store, nats_server.url, partitions="4-7")
        try:
            await wait_for_holders(store, sessions=2)
            held = lock_holders(store)
            assert all(len(pids) == 1 for pids in held.values()), held  # one writer each
            early = [await submit(js, submit_command("40000001")) for _ in range(40)]
            for case_id in early:
                assert await stack.wait_final(case_id, within=60) == "completed"
            with stack.reading() as ledger:
                read = [ledger.position(f"commands.p{p}") for p in range(PARTITIONS)]
            assert all(position > 0 for position in read), read  # every partition was read
            first.send_signal(signal.SIGKILL)
            assert await wait_exit(first) == -signal.SIGKILL, first_log.read_text()[-3000:]
            # The survivor takes the dead worker's partitions over: every case still ends.
            await wait_for_holders(store, sessions=1)
            later = [await submit(js, submit_command("40000001")) for _ in range(40)]
            assert {partition_of(c, PARTITIONS) for c in later} & {0, 1, 2, 3}
            for case_id in later:
                assert await stack.wait_final(case_id, within=60) == "completed"
            await asyncio.sleep(0.5)
        finally:
            stop(first)
            stop(second)
    assert_each_case_once(stack, early + later)


async def test_two_workers_started_for_the_same_partitions_hold_each_once_and_double_nothing(
    js: JetStreamContext, nats_server: EmbeddedNats, postgres_store: LedgerStore
) -> None:
    store = postgres_store
    async with local_stack(
        store, nats_server.url, ledger=False, ledger_partitions=PARTITIONS
    ) as stack:
        case_ids = [await submit(js, submit_command("40000001")) for _ in range(60)]
        workers = [ledger_process(store, nats_server.url) for _ in range(2)]
        try:
            for case_id in case_ids:
                assert await stack.wait_final(case_id, within=90) == "completed"
            held = lock_holders(store)
            assert set(held) == set(range(-1, PARTITIONS))
            assert all(len(pids) == 1 for pids in held.values()), held
            await asyncio.sleep(0.5)
        finally:
            for worker in workers:
                stop(worker)
    assert_each_case_once(stack, case_ids)
