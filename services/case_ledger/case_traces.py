"""Carrying a case's trace across the ledger: from the message that changed it to what follows.

The outbox publishes a change later, on another task, so the W3C trace context of the command
or result that caused it is kept here by case id and attached to the requests and events that
the change produces. It is best effort and in memory: after a restart, or for a case not seen
for a while, the next hop starts a new trace (the case id still links them in logs).
"""

import threading
from collections import OrderedDict
from uuid import UUID

from services.bus.tracing import inject_trace_context


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
