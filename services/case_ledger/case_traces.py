"""Carrying a case's trace across the ledger: from the message that changed it to what follows.

The outbox publishes a change later, on another task, so the W3C trace context of the command
or result that caused it is kept here by case id and attached to the requests and events that
the change produces. It is best effort and in memory: after a restart, or for a case not seen
for a while, the next hop starts a new trace (the case id still links them in logs).
"""

import threading
from collections import OrderedDict
from uuid import UUID

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from services.bus.tracing import extract_trace_context, inject_trace_context, tracer


class CaseTraces:
    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._carriers: OrderedDict[UUID, dict[str, str]] = OrderedDict()
        # The inbox remembers on the ledger's writer thread; the outbox reads on the event loop.
        self._lock = threading.Lock()

    def remember(self, case_id: UUID) -> None:
        """Keep the trace context that is current now as the case's latest."""
        carrier: dict[str, str] = {}
        inject_trace_context(carrier)
        if not carrier:
            return
        with self._lock:
            self._carriers[case_id] = carrier
            self._carriers.move_to_end(case_id)
            while len(self._carriers) > self.capacity:
                self._carriers.popitem(last=False)

    def headers(self, case_id: UUID) -> dict[str, str]:
        with self._lock:
            return dict(self._carriers.get(case_id, {}))

    def start_dispatch(
        self, case_id: UUID, entity: str, service: str, attempt: int
    ) -> tuple[Span, dict[str, str]]:
        """A dispatch span under the case's latest context, and the headers that make the
        entity's span its child; the caller ends the span once the request is published."""
        span = tracer().start_span(
            f"dispatch {entity}.{service}",
            context=extract_trace_context(self.headers(case_id)),
            kind=SpanKind.PRODUCER,
            attributes={"ventanilla.case_id": str(case_id), "ventanilla.attempt": attempt},
        )
        carrier: dict[str, str] = {}
        with trace.use_span(span, end_on_exit=False):
            inject_trace_context(carrier)
        return span, carrier
