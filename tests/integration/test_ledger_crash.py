"""The ledger process dies at the worst moments and comes back: nothing lost, nothing doubled."""

import asyncio
import random
import signal
import subprocess
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.event_types import ANNOUNCED_EVENTS, REQUESTING_EVENTS, EventType
from services.case_ledger.main import REFUSED
from services.case_ledger.store import LedgerStore
from services.failpoints import EXIT_CODE
from services.stack.natsd import EmbeddedNats
from tests.factories import COMPLETED_HISTORY, submit_command
from tests.integration.stack import (
    assert_each_case_once,
    event_types,
    ledger_process,
    local_stack,
    said,
    stop,
    submit,
    wait_exit,
)

pytestmark = pytest.mark.integration


async def published(js: JetStreamContext) -> int:
    """What the outbox put on the bus: the work requests (a work queue: counted by sequence,
    which a duplicate dropped by its message id does not advance) and the announcements."""
    work = await js.stream_info(subjects.WORK_STREAM)
    events = await js.stream_info(subjects.EVENTS_STREAM)
    return work.state.last_seq + events.state.messages


def to_publish(history: list[str]) -> int:
    """What the outbox publishes for these events: a request or an announcement for some."""
    return sum(t in REQUESTING_EVENTS or t in ANNOUNCED_EVENTS for t in history)


@pytest.mark.parametrize("crash_at_save", [1, 2, 3])
async def test_a_ledger_killed_between_save_and_publish_resumes_on_restart(
    crash_at_save: int, js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url, ledger=False) as stack:
        case_id = await submit(js, submit_command("40000001"))
        doomed = ledger_process(
            sqlite_store, nats_server.url, failpoints=f"ledger.after-save={crash_at_save}"
        )
        assert await wait_exit(doomed) == EXIT_CODE
        # It died with the change saved and what it calls for not yet published.
        with stack.reading() as ledger:
            saved = event_types(ledger, case_id)
        assert EventType.CASE_SUBMITTED in saved
        assert await published(js) < to_publish(saved)

        restarted = ledger_process(sqlite_store, nats_server.url)
        try:
            assert await stack.wait_final(case_id) == "completed"
            # At the third save the case was already complete: wait for the restarted ledger
            # to publish what the first one could not (it is running by then, so SIGTERM finds
            # its handler and not a process still importing).
            async with asyncio.timeout(30):
                while await published(js) < to_publish(COMPLETED_HISTORY):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # room for anything it might wrongly do twice
        finally:
            stop(restarted)
        assert restarted.returncode == 0
    assert_each_case_once(stack, [case_id])
    # Each request and the case's end published once.
    assert await published(js) == to_publish(COMPLETED_HISTORY)


async def test_a_ledger_killed_under_load_loses_and_doubles_nothing(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url, ledger=False) as stack:
        case_ids = [await submit(js, submit_command("40000001")) for _ in range(300)]
        first = ledger_process(sqlite_store, nats_server.url)
        # Kill it mid-stream: some results recorded, most of the 600 still to come.
        await stack.wait_position("results", random.randint(5, 60))
        first.send_signal(signal.SIGKILL)
        assert await wait_exit(first) == -signal.SIGKILL

        with stack.reading() as ledger:
            recorded = [c for c in case_ids if ledger.is_recorded(c)]
            completed = sum(1 for c in recorded if ledger.case_view(c).status == "completed")
        assert completed < len(case_ids), "the ledger had finished everything before it was killed"

        second = ledger_process(sqlite_store, nats_server.url)
        try:
            for case_id in case_ids:
                assert await stack.wait_final(case_id, within=60) == "completed"
            await asyncio.sleep(0.5)
        finally:
            stop(second)
    assert_each_case_once(stack, case_ids)


async def test_a_second_ledger_on_the_same_sqlite_store_refuses_to_run_and_the_first_goes_on(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore, tmp_path: Path
) -> None:
    """SQLite has one writer; ledger workers share a PostgreSQL store (test_ledger_workers)."""
    store = sqlite_store
    log = tmp_path / "second-ledger.log"
    async with local_stack(store, nats_server.url, ledger=False) as stack:
        case_ids = [await submit(js, submit_command("40000001")) for _ in range(40)]
        first = ledger_process(store, nats_server.url)
        third: subprocess.Popen[bytes] | None = None
        try:
            assert await stack.wait_final(case_ids[0], within=60) == "completed"
            second = ledger_process(store, nats_server.url, log=log)
            assert await wait_exit(second) == REFUSED
            for case_id in case_ids:
                assert await stack.wait_final(case_id, within=60) == "completed"
            # The store is free again the moment its holder dies, however it dies.
            first.send_signal(signal.SIGKILL)
            assert await wait_exit(first) == -signal.SIGKILL
            later = [await submit(js, submit_command("40000001")) for _ in range(5)]
            third = ledger_process(store, nats_server.url)
            for case_id in later:
                assert await stack.wait_final(case_id, within=60) == "completed"
        finally:
            for process in (first, third):
                if process is not None:
                    stop(process)
    assert "another ledger process" in said(log)
    assert f"pid {first.pid} on " in said(log)  # it names the holder
    assert_each_case_once(stack, case_ids + later)
