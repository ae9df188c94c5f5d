"""Each ledger event records the W3C trace it was written under, so a case's history links to
its trace in the operator's tracing backend.

The trace id is one more field of the event's state, set before the event is stored: the hash
chain seals it with the rest of the event, and events stored before the field existed are read
and verified exactly as they were written (they simply have none). Replaying an event ignores
the field: the aggregate's event methods take only their own parameters.
"""

from typing import Any

from .domain import CaseFile

TRACE_ID = "trace_id"


def stamp_trace(case: CaseFile, trace_id: str | None) -> None:
    """Give the case's events not yet saved, and not yet stamped, this trace id."""
    if trace_id is None:
        return
    for event in case.pending_events:
        if TRACE_ID not in vars(event):
            # Domain events are frozen: this is their construction, finished before saving.
            object.__setattr__(event, TRACE_ID, trace_id)


def trace_of(event: Any) -> str | None:
    value = vars(event).get(TRACE_ID)
    return value if isinstance(value, str) else None
