"""One trace follows a case across the bus: channel, ledger, each entity, back to the ledger."""

import pytest
from nats.js import JetStreamContext
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.bus.tracing import tracer
from services.case_ledger.store import LedgerStore
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.stack import local_stack, submit

pytestmark = pytest.mark.integration


async def test_the_w3c_trace_of_a_submission_reaches_every_hop(
    spans: InMemorySpanExporter,
    js: JetStreamContext,
    nats_server: EmbeddedNats,
    sqlite_store: LedgerStore,
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        with tracer().start_as_current_span("counter submits") as root:
            case_id = await submit(js, submit_command("40000001"))
        assert await stack.wait_final(case_id) == "completed"

    trace_id = root.get_span_context().trace_id
    hops = {s.name: s for s in spans.get_finished_spans() if s.name != "counter submits"}
    assert {"ledger commands", "banco-nacion.pago-tasa", "reniec.duplicado-dni"} <= set(hops)
    for name in (
        "ledger commands",
        "banco-nacion.pago-tasa",
        "ledger results",
        "reniec.duplicado-dni",
    ):
        assert hops[name].context.trace_id == trace_id, name
    # The entity's span is a child of the ledger's dispatch, a child of the ledger's handling of
    # the command, which is a child of the channel's.
    assert hops["ledger commands"].parent.span_id == root.get_span_context().span_id
    dispatch = hops["dispatch banco-nacion.pago-tasa"]
    assert dispatch.parent.span_id == hops["ledger commands"].context.span_id
    # Between the dispatch and the entity's span, FastStream's telemetry middleware spans the
    # delivery to the adapter.
    by_id = {s.context.span_id: s for s in spans.get_finished_spans()}
    delivery = by_id[hops["banco-nacion.pago-tasa"].parent.span_id]
    assert delivery.name == "ventanilla.work.banco-nacion.pago-tasa process"
    assert delivery.parent.span_id == dispatch.context.span_id
    assert hops["back-office banco-nacion.pago-tasa"].parent.span_id == (
        hops["banco-nacion.pago-tasa"].context.span_id
    )
    for span in spans.get_finished_spans():
        assert "40000001" not in repr(dict(span.attributes or {}))
