"""Every reference procedure with the demo citizens, on a real nats-server and SQLite.

Each case must end in the expected state, and each back office must have done exactly the
effects that state implies: a fee charged once, refunded once when a later step refused, a
document issued once even when the back office lost its first answers.
"""

import pytest
from nats.js import JetStreamContext

from schemas.event_types import EventType
from services.case_ledger.store import LedgerStore
from services.entity_adapters.backoffices.sunat import ruc_for
from services.stack.natsd import EmbeddedNats
from tests.factories import SCENARIOS, TRANSFER, submit_command
from tests.integration.stack import event_types, local_stack, submit

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", SCENARIOS)
async def test_reference_procedure_with_demo_citizen(
    name: str, js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    scenario = SCENARIOS[name]
    command = submit_command(scenario.dni, procedure=scenario.procedure, inputs=scenario.inputs)
    async with local_stack(sqlite_store, nats_server.url) as stack:
        case_id = await submit(js, command)

        assert await stack.wait_final(case_id, within=60) == scenario.status
        with stack.reading() as ledger:
            view = ledger.case_view(case_id)
            types = event_types(ledger, case_id)
    if scenario.reason is not None:
        assert view.reason is not None
        assert scenario.reason in view.reason
    for key, count in scenario.effects.items():
        entity, kind = key.split(":")
        assert stack.effects[entity].count(kind) == count, key
    assert types.count(EventType.CASE_SUBMITTED) == 1
    assert types.count(EventType.CASE_COMPLETED) + types.count(EventType.CASE_REJECTED) == 1
    if scenario.effects.get("banco-nacion:fee-refunded"):
        assert types.index(EventType.COMPENSATION_DISPATCHED) < types.index(
            EventType.COMPENSATION_COMPLETED
        )
        assert types.index(EventType.COMPENSATION_COMPLETED) < types.index(EventType.CASE_REJECTED)
        [refund] = [s for s in view.steps if s.compensates == "pago-tasa"]
        assert (refund.entity, refund.service, refund.status) == (
            "banco-nacion",
            "devolucion-tasa",
            "completed",
        )


async def test_independent_steps_of_a_transfer_are_dispatched_together(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        case_id = await submit(
            js, submit_command("40000001", procedure="transferencia-vehicular", inputs=TRANSFER)
        )
        assert await stack.wait_final(case_id) == "completed"
        with stack.reading() as ledger:
            history = ledger.case_history(case_id)
    types = [e.type for e in history.events]
    # The four checks go out in the same change, right after the case opens.
    assert types[:5] == [EventType.CASE_SUBMITTED] + [EventType.STEP_DISPATCHED] * 4
    assert {e.data["step_id"] for e in history.events[1:5]} == {
        "identidad-comprador",
        "identidad-vendedor",
        "no-adeudo",
        "propiedad",
    }
    seller_check = next(
        e
        for e in history.events
        if e.type == EventType.STEP_DISPATCHED and e.data["step_id"] == "identidad-vendedor"
    )
    assert seller_check.data["request"]["citizen"]["document_number"] == "40000007"
    shared = [e.data for e in history.events if e.type == EventType.DATA_SHARED]
    assert {(d["from_entity"], d["to_entity"]) for d in shared} == {
        ("sat", "sunarp"),
        ("banco-nacion", "sunarp"),
    }
    assert all(d["legal_basis"] == "DL 1211" for d in shared)


async def test_a_registered_taxpayer_gets_the_ruc_sunat_computes(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        case_id = await submit(
            js,
            submit_command(
                "40000001", procedure="inscripcion-ruc", inputs={"activity_code": "4711"}
            ),
        )
        assert await stack.wait_final(case_id) == "completed"
        with stack.reading() as ledger:
            history = ledger.case_history(case_id)
    [registered] = [
        e.data
        for e in history.events
        if e.type == EventType.STEP_COMPLETED and e.data["step_id"] == "inscripcion-ruc"
    ]
    assert registered["result"]["ruc"] == ruc_for("40000001")
    [request] = [
        e.data["request"]
        for e in history.events
        if e.type == EventType.STEP_DISPATCHED and e.data["step_id"] == "inscripcion-ruc"
    ]
    # SUNAT got the name from RENIEC, not from the citizen.
    assert request["surnames"] == "QUISPE MAMANI"
