"""The names of the events a case's ledger records: the one place they are spelled.

A case history is a list of these events, in order. The ledger's aggregate declares them, and
everything that reads a history (outbox, deadline watch, access log, ANS projection, CLI
rendering, the web pages, tests) compares against these members rather than its own copies.
`EventType` is a `StrEnum`, so a member equals its name as stored: `"StepDispatched"`.
"""

from enum import StrEnum


class EventType(StrEnum):
    CASE_SUBMITTED = "CaseSubmitted"
    STEP_DISPATCHED = "StepDispatched"
    STEP_ACCEPTED = "StepAccepted"
    STEP_COMPLETED = "StepCompleted"
    STEP_REJECTED = "StepRejected"
    STEP_ATTEMPT_FAILED = "StepAttemptFailed"
    STEP_OVERDUE = "StepOverdue"
    STEP_ANSWERED_LATE = "StepAnsweredLate"
    DATA_SHARED = "DataShared"
    COMPENSATION_DISPATCHED = "CompensationDispatched"
    COMPENSATION_COMPLETED = "CompensationCompleted"
    COMPENSATION_REJECTED = "CompensationRejected"
    COMPENSATION_ATTEMPT_FAILED = "CompensationAttemptFailed"
    CASE_COMPLETED = "CaseCompleted"
    CASE_REJECTED = "CaseRejected"


# The events that end a case: nothing is recorded after one of them.
FINAL_EVENTS = frozenset({EventType.CASE_COMPLETED, EventType.CASE_REJECTED})
# The events that put a request to an entity on the bus.
REQUESTING_EVENTS = frozenset({EventType.STEP_DISPATCHED, EventType.COMPENSATION_DISPATCHED})
# The events the ledger announces on the events stream: a case's end only. Every step's status
# is in the status read model (the KV bucket the gateways and the site relay follow).
ANNOUNCED_EVENTS = FINAL_EVENTS
