"""A NATS store lost and made again, or older than the ledger: the ledger never skips a message.

Each test runs the ledger as a real process on SQLite and on PostgreSQL, against real
nats-servers whose stores the test deletes or restores, as a user starting over would.
"""

import asyncio
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import nats
import pytest
from typer.testing import CliRunner

from services.bus.topology import ensure_topology
from services.case_ledger.main import REFUSED
from services.case_ledger.store import MASTER_KEY_SETTING, LedgerStore
from services.cli.main import app
from services.datadir import DataDir
from services.stack.natsd import EmbeddedNats
from tests.factories import COMPLETED_HISTORY, submit_command
from tests.integration.stack import LocalStack, event_types, ledger_process, local_stack, submit

pytestmark = pytest.mark.integration


@asynccontextmanager
async def bus_on(
    store_dir: Path, ledger_store: LedgerStore
) -> AsyncIterator[tuple[LocalStack, EmbeddedNats]]:
    """A nats-server on `store_dir` with the topology and the adapters; the ledger not yet."""
    server = EmbeddedNats(store_dir=store_dir)
    server.start()
    try:
        async with local_stack(ledger_store, server.url, ledger=False) as stack:
            yield stack, server
    finally:
        server.stop()


async def submitted(server: EmbeddedNats, count: int) -> list[UUID]:
    nc = await nats.connect(server.url)
    try:
        js = nc.jetstream()
        await ensure_topology(js)
        return [await submit(js, submit_command("40000001")) for _ in range(count)]
    finally:
        await nc.drain()


async def exit_code(process: subprocess.Popen[bytes], within: float = 60.0) -> int:
    async with asyncio.timeout(within):
        while process.poll() is None:
            await asyncio.sleep(0.05)
    return process.returncode


async def run_ledger_until_done(
    stack: LocalStack, server: EmbeddedNats, case_ids: list[UUID], log: Path
) -> None:
    process = ledger_process(stack.store, server.url, log=log)
    try:
        for case_id in case_ids:
            assert await stack.wait_final(case_id, within=60) == "completed"
    finally:
        process.send_signal(signal.SIGTERM)
        assert await exit_code(process) == 0, what_it_said(log)


def what_it_said(log: Path) -> str:
    return log.read_text()


def assert_recorded_once(stack: LocalStack, case_ids: list[UUID]) -> None:
    with stack.reading() as ledger:
        for case_id in case_ids:
            assert event_types(ledger, case_id) == COMPLETED_HISTORY, case_id


def not_recorded(stack: LocalStack, case_ids: list[UUID]) -> list[UUID]:
    with stack.reading() as ledger:
        return [c for c in case_ids if not ledger.is_recorded(c)]


async def test_a_nats_store_made_again_is_refused_then_read_from_its_first_message(
    store: LedgerStore, tmp_path: Path
) -> None:
    log = tmp_path / "ledger.log"
    async with bus_on(tmp_path / "nats-1", store) as (stack, server):
        before = await submitted(server, 3)
        await run_ledger_until_done(stack, server, before, log)

    # The data dir is deleted to start over; the database and the master key survive.
    async with bus_on(tmp_path / "nats-2", store) as (stack, server):
        after = await submitted(server, 7)
        refused = ledger_process(store, server.url, log=log)
        assert await exit_code(refused) == REFUSED
        said = what_it_said(log)
        assert "was created at" in said
        assert "follow-new-streams" in said
        assert not_recorded(stack, after) == after  # refused: nothing read, nothing skipped

        data = DataDir(tmp_path / "var")
        data.ledger_url_file.parent.mkdir(parents=True)
        data.ledger_url_file.write_text(store.url)
        master_key = store.environment()[MASTER_KEY_SETTING]
        way_out = CliRunner().invoke(
            app,
            [
                "ledger",
                "follow-new-streams",
                "--data-dir",
                str(data.root),
                "--master-key",
                master_key,
            ],
        )
        assert way_out.exit_code == 0, way_out.output
        assert "commands: was read up to 3" in way_out.output

        await run_ledger_until_done(stack, server, after, log)
        assert_recorded_once(stack, before + after)
        assert stack.effects["banco-nacion"].count("fee-charged") == len(after)


async def test_a_nats_store_older_than_the_ledger_is_refused(
    store: LedgerStore, tmp_path: Path
) -> None:
    log = tmp_path / "ledger.log"
    live, backup = tmp_path / "nats", tmp_path / "nats-backup"
    async with bus_on(live, store) as (stack, server):
        first = await submitted(server, 2)
        await run_ledger_until_done(stack, server, first, log)
    shutil.copytree(live, backup)  # a backup of the stopped server's store
    async with bus_on(live, store) as (stack, server):
        second = await submitted(server, 3)
        await run_ledger_until_done(stack, server, second, log)

    # The NATS store is restored from the older backup: the same streams, shorter.
    shutil.rmtree(live)
    backup.rename(live)
    async with bus_on(live, store) as (stack, server):
        refused = ledger_process(store, server.url, log=log)
        assert await exit_code(refused) == REFUSED
        said = what_it_said(log)
        assert "ends at sequence 2" in said
        assert "already read up to 5" in said


async def test_an_older_nats_store_that_took_new_messages_is_refused(
    store: LedgerStore, tmp_path: Path
) -> None:
    log = tmp_path / "ledger.log"
    live, backup = tmp_path / "nats", tmp_path / "nats-backup"
    async with bus_on(live, store) as (stack, server):
        first = await submitted(server, 2)
        await run_ledger_until_done(stack, server, first, log)
    shutil.copytree(live, backup)
    async with bus_on(live, store) as (stack, server):
        second = await submitted(server, 3)
        await run_ledger_until_done(stack, server, second, log)

    # Restored from the older backup while the ledger was down, and the gateway went on
    # taking cases: the stream reaches past the ledger's position again, with other messages.
    shutil.rmtree(live)
    backup.rename(live)
    async with bus_on(live, store) as (stack, server):
        third = await submitted(server, 4)
        refused = ledger_process(store, server.url, log=log)
        assert await exit_code(refused) == REFUSED
        assert "restored from an older backup" in what_it_said(log)
        assert not_recorded(stack, third) == third
