"""Deferred answers on a real nats-server and SQLite: SUNARP accepts a transfer now, answers later.

Demo citizen 40000008's transfer registration is accepted at once and decided about 20 s later;
the adapter publishes the decision as the final answer of the accepted attempt.
"""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from nats.js import JetStreamContext

from schemas import subjects
from schemas.catalog import ProcedureSpec, build_catalog
from schemas.entities.sunarp import TransferRegistered
from schemas.event_types import EventType
from schemas.procedures import TRANSFERENCIA_VEHICULAR, catalog
from services.bus.publishing import RETRYABLE, publish
from services.case_ledger.store import LedgerStore
from services.entity_adapters.answers import AnswerTo, answer
from services.entity_adapters.backoffices import demo
from services.stack.natsd import EmbeddedNats
from tests.factories import step_result, submit_command
from tests.integration.secured_bus import create_topology, secured_bus
from tests.integration.stack import LocalStack, event_types, local_stack, submit

pytestmark = pytest.mark.integration

TRANSFER = {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000}


async def wait_step_status(stack: LocalStack, case_id: UUID, step_id: str, status: str) -> None:
    async with asyncio.timeout(30):
        while True:
            with stack.reading() as ledger:
                if ledger.is_recorded(case_id):
                    view = ledger.case_view(case_id)
                    if any(s.step_id == step_id and s.status == status for s in view.steps):
                        return
            await asyncio.sleep(0.1)


async def test_a_transfer_accepted_now_completes_when_sunarp_answers_later(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        submitted = datetime.now(UTC)
        command = submit_command(
            demo.SUNARP_ANSWERS_LATER, procedure="transferencia-vehicular", inputs=TRANSFER
        )
        case_id = await submit(js, command)

        await wait_step_status(stack, case_id, "inscripcion", "accepted")
        with stack.reading() as ledger:
            waiting = ledger.case_view(case_id)
        assert waiting.status == "in_progress"
        [step] = [s for s in waiting.steps if s.step_id == "inscripcion"]
        assert step.expected_by is not None
        assert step.expected_by - submitted >= demo.SUNARP_DECISION_DELAY - timedelta(seconds=1)
        assert stack.effects["sunarp"].count("transfer-registered") == 0

        assert await stack.wait_final(case_id, within=60) == "completed"
        with stack.reading() as ledger:
            history = ledger.case_history(case_id)
    inscription = [e for e in history.events if e.data.get("step_id") == "inscripcion"]
    assert [e.type for e in inscription] == [
        EventType.STEP_DISPATCHED,
        EventType.STEP_ACCEPTED,
        EventType.STEP_COMPLETED,
    ]
    accepted, completed = inscription[1], inscription[2]
    assert completed.data["attempt_id"] == accepted.data["attempt_id"]
    assert completed.actor == {"kind": "entity", "id": "sunarp"}
    assert completed.occurred_at - accepted.occurred_at >= timedelta(seconds=15)
    assert completed.data["result"]["registration_number"].startswith("TIT-")
    assert stack.effects["sunarp"].count("transfer-registered") == 1


async def test_a_duplicated_final_answer_is_recognised(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        command = submit_command(
            demo.SUNARP_ANSWERS_LATER, procedure="transferencia-vehicular", inputs=TRANSFER
        )
        case_id = await submit(js, command)
        assert await stack.wait_final(case_id, within=60) == "completed"
        with stack.reading() as ledger:
            before = event_types(ledger, case_id)
            completed = next(
                e
                for e in ledger.case_history(case_id).events
                if e.type == EventType.STEP_COMPLETED and e.data["step_id"] == "inscripcion"
            )
        to = AnswerTo(
            case_id=case_id,
            step_id="inscripcion",
            attempt_id=UUID(str(completed.data["attempt_id"])),
            service="inscripcion-transferencia",
        )
        # Within the duplicate window, the stream drops the second copy of the answer ...
        registered = completed.data["result"]
        ack = await answer(js, "sunarp", to, TransferRegistered.model_validate(registered))
        assert ack.duplicate
        # ... and beyond it (another message id), the ledger recognises the repeat.
        repeat = step_result(
            case_id,
            "inscripcion",
            to.attempt_id,
            "sunarp",
            "inscripcion-transferencia",
            data=registered,
        )
        stored = await publish(
            js,
            subjects.result("sunarp", "inscripcion-transferencia", case_id),
            repeat,
            msg_id="a-retry-after-the-window",
        )
        await stack.wait_position("results", stored.seq)
        with stack.reading() as ledger:
            assert event_types(ledger, case_id) == before
            assert ledger.case_view(case_id).status == "completed"
    assert stack.effects["sunarp"].count("transfer-registered") == 1


def hurried_transfer_catalog(deadline: timedelta) -> dict[str, ProcedureSpec]:
    """The reference catalog, except that SUNARP must register a transfer within `deadline`."""
    steps = tuple(
        replace(s, deadline=deadline) if s.id == "inscripcion" else s
        for s in TRANSFERENCIA_VEHICULAR.steps
    )
    return {**catalog(), **build_catalog((replace(TRANSFERENCIA_VEHICULAR, steps=steps),))}


async def test_an_answer_after_the_case_was_compensated_and_closed_is_recorded_once(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    # SUNARP decides after 20 s; the ANS allows 2 s per attempt: every attempt expires.
    procedures = hurried_transfer_catalog(timedelta(seconds=2))
    async with local_stack(sqlite_store, nats_server.url, procedures=procedures) as stack:
        command = submit_command(
            demo.SUNARP_ANSWERS_LATER, procedure="transferencia-vehicular", inputs=TRANSFER
        )
        case_id = await submit(js, command)
        assert await stack.wait_final(case_id, within=40) == "rejected"
        async with asyncio.timeout(60):  # until SUNARP's decision reaches the ledger
            while True:
                with stack.reading() as ledger:
                    history = ledger.case_history(case_id)
                if any(e.type == EventType.STEP_ANSWERED_LATE for e in history.events):
                    break
                await asyncio.sleep(0.2)
        closed_with = next(e for e in history.events if e.type == EventType.CASE_REJECTED)
        [late] = [e for e in history.events if e.type == EventType.STEP_ANSWERED_LATE]
        last_attempt = [
            e.data["attempt_id"]
            for e in history.events
            if e.type == EventType.STEP_DISPATCHED and e.data["step_id"] == "inscripcion"
        ][-1]

        # The same answer again, beyond the duplicate window: recognised, nothing recorded.
        repeat = step_result(
            case_id,
            "inscripcion",
            UUID(str(late.data["attempt_id"])),
            "sunarp",
            "inscripcion-transferencia",
            data=late.data["result"],
        )
        subject = subjects.result("sunarp", "inscripcion-transferencia", case_id)
        stored = await publish(js, subject, repeat, msg_id="a-retry-after-the-window")
        await stack.wait_position("results", stored.seq)
        with stack.reading() as ledger:
            after = ledger.case_history(case_id)
            view = ledger.case_view(case_id)

    budget = TRANSFERENCIA_VEHICULAR.step("inscripcion").max_attempts
    types = [e.type for e in history.events]
    assert types.count(EventType.STEP_OVERDUE) == budget
    assert types.index(EventType.CASE_REJECTED) < types.index(EventType.STEP_ANSWERED_LATE)
    # The answer went to the attempt that asked last, and changed nothing: the case stays
    # rejected with its reason, the fee refunded once; the registration is on record.
    assert late.data["attempt_id"] == last_attempt
    assert late.data["outcome"] == "completed"
    assert late.data["result"]["registration_number"].startswith("TIT-")
    assert late.actor == {"kind": "entity", "id": "sunarp"}
    assert [e.type for e in after.events] == types
    assert (view.status, view.reason) == ("rejected", closed_with.data["reason"])
    assert stack.effects["banco-nacion"].count("fee-refunded") == 1
    assert stack.effects["sunarp"].count("transfer-registered") == 1


async def test_any_process_with_the_entitys_credentials_can_answer_and_no_other(
    sqlite_store: LedgerStore, tmp_path: Path
) -> None:
    with secured_bus(tmp_path / "bus") as bus:
        await create_topology(bus)
        async with (
            local_stack(sqlite_store, bus.url, login_for=bus.login) as stack,
            bus.client("admin") as (admin, _),
        ):
            command = submit_command(
                demo.SUNARP_ANSWERS_LATER, procedure="transferencia-vehicular", inputs=TRANSFER
            )
            case_id = await submit(admin.jetstream(), command)
            await wait_step_status(stack, case_id, "inscripcion", "accepted")
            with stack.reading() as ledger:
                accepted = next(
                    e
                    for e in ledger.case_history(case_id).events
                    if e.type == EventType.STEP_ACCEPTED
                )
            to = AnswerTo(
                case_id=case_id,
                step_id="inscripcion",
                attempt_id=UUID(str(accepted.data["attempt_id"])),
                service="inscripcion-transferencia",
            )
            registered = TransferRegistered(
                registration_number="TIT-FROM-ELSEWHERE", registered_at=datetime.now(UTC)
            )
            # RENIEC's user may not answer for SUNARP: the server refuses the publish.
            async with bus.client("reniec") as (reniec, refusals):
                with pytest.raises(RETRYABLE):  # no ack ever comes
                    await answer(reniec.jetstream(), "sunarp", to, registered, give_up_after=1.0)
                await refusals.expect('Publish to "ventanilla.result.sunarp.')
            # A process of SUNARP's own (not its adapter) answers under SUNARP's user.
            async with bus.client("sunarp") as (sunarp, refusals):
                await answer(sunarp.jetstream(), "sunarp", to, registered)
                assert refusals.errors == []
            assert await stack.wait_final(case_id, within=15) == "completed"
            with stack.reading() as ledger:
                view = ledger.case_view(case_id)
                history = ledger.case_history(case_id)
        [done] = [
            e
            for e in history.events
            if e.type == EventType.STEP_COMPLETED and e.data["step_id"] == "inscripcion"
        ]
        assert done.data["result"]["registration_number"] == "TIT-FROM-ELSEWHERE"
        assert view.status == "completed"
