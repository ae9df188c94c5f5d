"""Deferred answers, the handler's side: "accepted, the answer comes later".

Many back offices answer hours or days after they take a request (a registry's qualification,
a passport's production). A handler then returns `Accepted(expected_by)` instead of its result:
the adapter publishes a step result with outcome `accepted`, acks the request, and the ledger
keeps the step open (`StepAccepted`). The final answer is published later with
`services.entity_adapters.answers.answer`, to the address `AnswerTo.of(request)` names; the
step's deadline (ANS), counted from its dispatch, covers it.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Accepted:
    """The back office took the request and expects to answer by `expected_by`."""

    expected_by: datetime

    def __post_init__(self) -> None:
        if self.expected_by.tzinfo is None:
            raise ValueError("expected_by must be an aware datetime (UTC)")


@dataclass(frozen=True)
class Refused:
    """A final answer that refuses the request for a business reason (a deferred refusal)."""

    reason: str
