"""The status read model on a real nats-server: each case's view in JetStream KV."""

import asyncio
from uuid import UUID

import pytest
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from schemas import subjects
from schemas.procedures import catalog
from schemas.views import CaseView
from services.case_ledger.application import CaseLedger
from services.case_ledger.status_views import SOURCE, StatusViews
from services.case_ledger.store import LedgerStore
from services.case_ledger.writer import LedgerThread
from services.failpoints import EXIT_CODE
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.stack import ledger_process, local_stack, stop, submit, wait_exit

pytestmark = pytest.mark.integration


async def stored_view(kv: KeyValue, case_id: UUID) -> CaseView | None:
    try:
        entry = await kv.get(subjects.case_status_key(case_id))
    except KeyNotFoundError:
        return None
    return CaseView.model_validate_json(entry.value or b"")


async def until_final_in_kv(kv: KeyValue, case_id: UUID, within: float = 30.0) -> list[CaseView]:
    """Every distinct view the bucket showed, polled, until a final one."""
    seen: list[CaseView] = []
    async with asyncio.timeout(within):
        while True:
            view = await stored_view(kv, case_id)
            if view is not None and (not seen or seen[-1] != view):
                seen.append(view)
            if view is not None and view.status in ("completed", "rejected"):
                return seen
            await asyncio.sleep(0.01)


async def test_the_view_in_kv_follows_a_case_to_completion(
    js: JetStreamContext, nats_server: EmbeddedNats, store: LedgerStore
) -> None:
    kv = await js.key_value(subjects.STATUS_BUCKET)
    async with local_stack(store, nats_server.url) as stack:
        case_id = await submit(js, submit_command("40000001"))
        seen = await until_final_in_kv(kv, case_id)
        with stack.reading() as ledger:
            recorded = ledger.case_view(case_id)

    assert seen[-1] == recorded  # the same view the ledger answers, steps and times included
    assert [(s.service, s.status) for s in seen[-1].steps] == [
        ("pago-tasa", "completed"),
        ("duplicado-dni", "completed"),
    ]
    versions = [v.version for v in seen]
    assert versions == sorted(set(versions))  # only forwards
    keys = await kv.keys()
    assert keys == [f"case.{case_id.hex}"]  # the case id, nothing about the citizen


async def test_an_older_view_never_overwrites_a_newer_one(
    js: JetStreamContext, ledger: CaseLedger
) -> None:
    kv = await js.key_value(subjects.STATUS_BUCKET)
    ledger.submit_case(submit_command("40000001"))
    [case_id] = {n.originator_id for n in ledger.notifications_after(0, 10)}
    newer = ledger.case_view(case_id)
    older = newer.model_copy(update={"version": newer.version - 1, "status": "submitted"})
    thread = LedgerThread("test")
    try:
        first = StatusViews(ledger, thread, thread, js)
        second = StatusViews(ledger, thread, thread, js)  # another process: remembers nothing
        assert await first.put(older)
        assert await second.put(newer)
        # The first one still believes the key holds its own write: the server refuses the
        # stale revision, it reads the key again and sees a newer version.
        assert not await first.put(older.model_copy(update={"version": newer.version}))
        assert not await first.put(older)
        assert not await StatusViews(ledger, thread, thread, js).put(older)
    finally:
        thread.close()
    assert await stored_view(kv, case_id) == newer


async def test_a_ledger_killed_after_saving_writes_the_views_when_it_comes_back(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    kv = await js.key_value(subjects.STATUS_BUCKET)
    async with local_stack(sqlite_store, nats_server.url, ledger=False) as stack:
        case_id = await submit(js, submit_command("40000001"))
        doomed = ledger_process(sqlite_store, nats_server.url, failpoints="ledger.after-save=1")
        assert await wait_exit(doomed) == EXIT_CODE
        # It died with the case saved and its view not yet written.
        with stack.reading() as ledger:
            assert ledger.is_recorded(case_id)
        assert await stored_view(kv, case_id) is None

        restarted = ledger_process(sqlite_store, nats_server.url)
        try:
            seen = await until_final_in_kv(kv, case_id)
            await asyncio.sleep(1.5)  # room to save its position (at most once a second)
        finally:
            stop(restarted)
        assert restarted.returncode == 0
    with stack.reading() as ledger:
        assert seen[-1] == ledger.case_view(case_id)
        last = ledger.notifications_after(0, 99)[-1].id
        assert ledger.position(SOURCE) == last  # saved once it had nothing more to write


async def test_a_ledger_with_cases_but_no_views_fills_the_bucket(
    js: JetStreamContext, ledger: CaseLedger
) -> None:
    """A ledger older than its status bucket (or a lost bucket): the first round reads it all."""
    kv = await js.key_value(subjects.STATUS_BUCKET)
    commands = [submit_command("40000001") for _ in range(3)]
    for command in commands:
        ledger.submit_case(command)
    thread = LedgerThread("test")
    try:
        views = StatusViews(ledger, thread, thread, js, batch=2)
        while await views.catch_up():
            pass
        await views.save_position()
    finally:
        thread.close()
    for command in commands:
        assert await stored_view(kv, command.envelope.case_id) == ledger.case_view(
            command.envelope.case_id
        )
    assert ledger.position(SOURCE) == len(ledger.notifications_after(0, 99))


async def test_a_view_shows_at_least_the_events_read_though_the_cache_lags_behind(
    js: JetStreamContext, store: LedgerStore
) -> None:
    """Just after a commit the ledger's cache may still hold the case as it was before."""
    kv = await js.key_value(subjects.STATUS_BUCKET)
    ledger = CaseLedger(catalog(), store.environment(), cached_cases=10)
    thread = LedgerThread("test")
    try:
        command = submit_command("40000001")
        ledger.submit_case(command)
        case_id = command.envelope.case_id
        assert ledger.repository.cache is not None
        ledger.repository.cache.put(case_id, ledger.repository.get(case_id, version=1))
        assert ledger.case_view(case_id).version == 1  # what the cache says
        await StatusViews(ledger, thread, thread, js).catch_up()
        uncached = CaseLedger(catalog(), store.environment())
        try:
            recorded = uncached.case_view(case_id)
        finally:
            uncached.close()
        assert recorded.version > 1
        assert await stored_view(kv, case_id) == recorded
    finally:
        thread.close()
        ledger.close()
