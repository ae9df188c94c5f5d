"""An entity that does not answer within its deadline (ANS): the step is retried, then given up.

The ledger runs with the reference catalog, except that RENIEC's deadline is half a second.
"""

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from nats.js import JetStreamContext
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import format_trace_id

from schemas.catalog import ProcedureSpec, build_catalog
from schemas.event_types import EventType
from schemas.procedures import DUPLICADO_DNI, catalog
from services.bus.tracing import tracer
from services.case_ledger.store import LedgerStore
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.stack import event_types, local_stack, submit

pytestmark = pytest.mark.integration

DEADLINE = timedelta(seconds=0.5)


def impatient_catalog() -> dict[str, ProcedureSpec]:
    fee, duplicate = DUPLICADO_DNI.steps
    hurried = replace(DUPLICADO_DNI, steps=(fee, replace(duplicate, deadline=DEADLINE)))
    return {**catalog(), **build_catalog((hurried,))}


async def test_a_silent_entity_is_asked_again_and_its_answer_counts_once(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(
        sqlite_store,
        nats_server.url,
        entities=["banco-nacion"],  # RENIEC's adapter is down at first
        procedures=impatient_catalog(),
    ) as stack:
        case_id = await submit(js, submit_command("40000001"))
        async with asyncio.timeout(20):
            while True:
                with stack.reading() as ledger:
                    if ledger.is_recorded(case_id) and EventType.STEP_OVERDUE in event_types(
                        ledger, case_id
                    ):
                        break
                await asyncio.sleep(0.1)
        stack.start_adapters(["reniec"])  # it comes back with attempts 1 and 2 waiting

        assert await stack.wait_final(case_id) == "completed"
        with stack.reading() as ledger:
            history = ledger.case_history(case_id)
            view = ledger.case_view(case_id)
    [expired, *_] = [e for e in history.events if e.type == EventType.STEP_OVERDUE]
    assert expired.data["step_id"] == "duplicado-dni"
    assert "deadline" in expired.data["reason"]
    assert expired.actor == {"kind": "ledger", "id": "case-ledger"}
    duplicate = next(s for s in view.steps if s.step_id == "duplicado-dni")
    assert duplicate.attempts >= 2
    # Every attempt reached RENIEC under one idempotency key: one card, whatever answered.
    assert stack.effects["reniec"].count("dni-duplicate-issued") == 1
    assert [e.type for e in history.events].count(EventType.STEP_COMPLETED) == 2


async def test_an_entity_silent_for_every_attempt_rejects_the_case_and_refunds(
    spans: InMemorySpanExporter,
    js: JetStreamContext,
    nats_server: EmbeddedNats,
    sqlite_store: LedgerStore,
) -> None:
    async with local_stack(
        sqlite_store,
        nats_server.url,
        entities=["banco-nacion"],
        procedures=impatient_catalog(),
    ) as stack:
        with tracer().start_as_current_span("counter submits") as root:
            case_id = await submit(js, submit_command("40000001"))

        assert await stack.wait_final(case_id, within=30) == "rejected"
        with stack.reading() as ledger:
            view = ledger.case_view(case_id)
            history = ledger.case_history(case_id)
    # What the deadline watch recorded (each StepOverdue, the new attempts, the refund's
    # dispatch, the rejection) carries the case's trace, like what the messages caused.
    trace_id = format_trace_id(root.get_span_context().trace_id)
    by_watch = [e.type for e in history.events if e.type == EventType.STEP_OVERDUE]
    assert len(by_watch) == DUPLICADO_DNI.step("duplicado-dni").max_attempts
    assert EventType.CASE_REJECTED in [e.type for e in history.events]
    assert {e.type: e.trace_id for e in history.events if e.trace_id != trace_id} == {}
    budget = DUPLICADO_DNI.step("duplicado-dni").max_attempts
    assert view.reason is not None
    assert f"reniec did not answer after {budget} attempts" in view.reason
    assert stack.effects["banco-nacion"].count("fee-refunded") == 1
