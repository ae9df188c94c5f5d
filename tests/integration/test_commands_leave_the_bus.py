"""A command leaves the bus once the ledger has recorded it, and never before.

On a real nats-server (no encryption at rest here, so the store's files show what a command
leaves behind): commands wait untouched while the ledger is down, survive a ledger that dies
between its commit and its purge, and are gone once recorded (once every command is recorded,
from the store's files too: the purge drops the blocks it empties); a command sent again is
recorded once, and a server restart with nothing left on the stream is still the stream the
ledger followed.
"""

import asyncio
from uuid import UUID

import nats
import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.event_types import EventType
from services.bus.publishing import publish
from services.case_ledger.store import LedgerStore
from services.failpoints import EXIT_CODE
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.stack import LocalStack, event_types, ledger_process, local_stack, submit

pytestmark = pytest.mark.integration

DNIS = (b"40000001", b"40000002", b"40000003")


async def stored(js: JetStreamContext) -> int:
    return (await js.stream_info(subjects.COMMANDS_STREAM)).state.messages


async def until_stored(js: JetStreamContext, count: int, within: float = 15.0) -> None:
    async with asyncio.timeout(within):
        while await stored(js) != count:
            await asyncio.sleep(0.05)


def on_disk(server: EmbeddedNats) -> set[bytes]:
    """Which of the DNIs the commands stream's files still hold, in any form of block."""
    found: set[bytes] = set()
    for path in server.store_dir.rglob("*"):
        if path.is_file() and subjects.COMMANDS_STREAM in path.parts:
            content = path.read_bytes()
            found |= {dni for dni in DNIS if dni in content}
    return found


def opened(stack: LocalStack, case_id: UUID) -> int:
    with stack.reading() as ledger:
        return event_types(ledger, case_id).count(EventType.CASE_SUBMITTED)


async def test_a_command_leaves_the_bus_once_recorded_and_never_before(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    first, second = submit_command("40000001"), submit_command("40000002")
    async with local_stack(sqlite_store, nats_server.url, ledger=False, entities=()) as stack:
        await submit(js, first)
        await submit(js, second)
        await asyncio.sleep(0.5)  # no ledger: nothing may take them off the stream
        assert await stored(js) == 2
        assert on_disk(nats_server) == {b"40000001", b"40000002"}

        # A ledger that dies right after committing, before it purges anything.
        doomed = ledger_process(sqlite_store, nats_server.url, failpoints="ledger.after-save=1")
        async with asyncio.timeout(30):
            while doomed.poll() is None:
                await asyncio.sleep(0.05)
        assert doomed.returncode == EXIT_CODE
        with stack.reading() as ledger:
            assert ledger.position("commands") >= 1
        assert await stored(js) == 2

    async with local_stack(sqlite_store, nats_server.url, entities=()) as stack:
        await stack.wait_position("commands", 2)
        await until_stored(js, 0)  # purged at start, then after its batch
        # Sent again: under the same Nats-Msg-Id, and under another one past the dedup window.
        await submit(js, first)
        subject = subjects.submit_case(first.envelope.actor.id, first.envelope.case_id)
        await publish(js, subject, first, msg_id="sent-again")
        last = (await js.stream_info(subjects.COMMANDS_STREAM)).state.last_seq
        await stack.wait_position("commands", last)
        await until_stored(js, 0)
        assert opened(stack, first.envelope.case_id) == 1
        assert opened(stack, second.envelope.case_id) == 1
    assert on_disk(nats_server) == set()  # not just unlisted: their blocks are gone

    # A server restart with an empty stream: still the stream the ledger followed.
    nats_server.stop()
    nats_server.start()
    nc = await nats.connect(nats_server.url, name="test-after-restart")
    try:
        again = nc.jetstream()
        info = await again.stream_info(subjects.COMMANDS_STREAM)
        assert (info.state.messages, info.state.last_seq) == (0, last)
        third = submit_command("40000003")
        async with local_stack(sqlite_store, nats_server.url, entities=()) as stack:
            await submit(again, third)
            await stack.wait_position("commands", last + 1)
            await until_stored(again, 0)
            assert opened(stack, third.envelope.case_id) == 1
    finally:
        await nc.drain()
    assert on_disk(nats_server) == set()
