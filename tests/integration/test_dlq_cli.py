"""`ventanilla dlq list` and `ventanilla dlq retry ID` against a real nats-server and ledger."""

import asyncio
from pathlib import Path
from uuid import UUID

import pytest
from nats.js import JetStreamContext
from typer.testing import CliRunner, Result

from schemas import subjects
from services.bus.publishing import publish
from services.case_ledger.store import LedgerStore
from services.cli.main import app
from services.credentials import issue_dev_credentials
from services.datadir import DataDir
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.stack import local_stack

pytestmark = pytest.mark.integration

runner = CliRunner(env={"COLUMNS": "250"})


async def ventanilla(*args: str) -> Result:
    # The command runs its own event loop: keep it off this test's loop.
    return await asyncio.to_thread(runner.invoke, app, list(args))


async def letters_count(js: JetStreamContext, count: int) -> None:
    async with asyncio.timeout(20):
        while (await js.stream_info(subjects.DEAD_LETTERS_STREAM)).state.messages < count:
            await asyncio.sleep(0.05)


async def test_list_shows_why_and_retry_republishes_the_original_bytes(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore, data_dir: Path
) -> None:
    folder = DataDir(data_dir)
    issue_dev_credentials(
        folder.gateway_tokens, folder.dev_credentials, "http://127.0.0.1:1", nats_server.url
    )
    submit_subject = subjects.submit_case("mac-lima-norte", UUID(int=1))
    broken = b'{"envelope": {"case_id": "40000001"'
    async with local_stack(sqlite_store, nats_server.url, entities=()):
        await publish(js, submit_subject, broken, msg_id="broken-1")
        unknown = submit_command("40000001", procedure="licencia-de-pesca")
        own_subject = subjects.submit_case("mac-lima-norte", unknown.envelope.case_id)
        await publish(js, own_subject, unknown, msg_id="broken-2")
        await letters_count(js, 2)

        listed = await ventanilla("dlq", "list", "--data-dir", str(data_dir))
        assert listed.exit_code == 0, listed.output
        assert "malformed JSON" in listed.output
        assert "unknown procedure 'licencia-de-pesca'" in listed.output
        assert f"{subjects.COMMANDS_STREAM}#1" in listed.output
        assert submit_subject in listed.output
        assert "40000001" not in listed.output  # bodies (personal data) are never printed

        retried = await ventanilla("dlq", "retry", "1", "--data-dir", str(data_dir))
        assert retried.exit_code == 0, retried.output
        assert f"retried dead letter 1 on {submit_subject}" in retried.output
        # The same bytes, on the same subject, in the same stream: the ledger reads it again
        # (and, since it is still malformed, files it again under a new origin). It deletes
        # the commands it has passed, so what it read is seen through the new dead letter.
        commands = await js.stream_info(subjects.COMMANDS_STREAM)
        assert commands.state.last_seq == 3
        await letters_count(js, 3)
        third = await js.get_msg(subjects.DEAD_LETTERS_STREAM, 3)
        assert third.headers is not None
        assert (third.subject, third.data) == (subjects.dead_letter("ledger"), broken)
        assert third.headers[subjects.HEADER_ORIGIN_STREAM] == subjects.COMMANDS_STREAM
        assert third.headers[subjects.HEADER_ORIGIN_SEQUENCE] == "3"
        origin = third.headers[subjects.HEADER_ORIGIN_SUBJECT]  # with the stream's partition
        assert subjects.published_form(origin, subjects.COMMAND_SUBMISSION) == submit_subject

        repeated = await ventanilla("dlq", "retry", "1", "--data-dir", str(data_dir))
        assert repeated.exit_code == 0, repeated.output
        assert "already retried" in repeated.output
        assert (await js.stream_info(subjects.COMMANDS_STREAM)).state.last_seq == 3

        missing = await ventanilla("dlq", "retry", "99", "--data-dir", str(data_dir))
        assert missing.exit_code == 1
        assert "no dead letter 99" in missing.output


async def test_without_a_stack_it_says_where_it_looked(tmp_path: Path) -> None:
    result = await ventanilla("dlq", "list", "--data-dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "no credentials" in result.output


async def test_no_dead_letters_is_said_plainly(
    js: JetStreamContext, nats_server: EmbeddedNats, data_dir: Path
) -> None:
    listed = await ventanilla(
        "dlq", "list", "--data-dir", str(data_dir), "--nats-url", nats_server.url
    )
    assert listed.exit_code == 0, listed.output
    assert "no dead letters" in listed.output
