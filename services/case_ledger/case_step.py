"""A step of a case (or the compensation of one) as the case file keeps it between events.

Only the events are stored; this is the state they rebuild. `open` starts an attempt, `accept`
notes an entity's promise of a later answer and `finish` closes the attempt. The attempts the
entity answered are kept across attempts, so a late answer to an earlier one is recognised.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from schemas.views import StepStatus

from .planner import IN_FLIGHT


@dataclass
class CaseStep:
    entity: str
    service: str
    status: StepStatus
    attempts: int
    attempt_id: UUID
    dispatched_at: datetime
    compensates: str | None = None
    # The DNI of the citizen the step is about (whose data its result holds), if any.
    subject: str | None = None
    finished_at: datetime | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None
    expected_by: datetime | None = None
    # Attempts of this step that the entity answered (overdue ones were not).
    answered: list[UUID] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        earlier: "CaseStep | None",
        *,
        entity: str,
        service: str,
        attempt: int,
        attempt_id: UUID,
        at: datetime,
        compensates: str | None,
        subject: str | None,
    ) -> "CaseStep":
        return cls(
            entity=entity,
            service=service,
            status="dispatched",
            attempts=attempt,
            attempt_id=attempt_id,
            dispatched_at=at,
            compensates=compensates,
            subject=subject,
            answered=list(earlier.answered) if earlier else [],
        )

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    def accept(self, expected_by: datetime) -> None:
        self.status, self.expected_by = "accepted", expected_by

    def finish(
        self,
        status: StepStatus,
        at: datetime,
        *,
        result: dict[str, Any] | None = None,
        reason: str | None = None,
        answered: bool = True,
    ) -> None:
        self.status, self.finished_at, self.result, self.reason = status, at, result, reason
        if answered:
            self.answered.append(self.attempt_id)

    def answered_late(self, attempt_id: UUID) -> None:
        self.answered.append(attempt_id)

    def copy(self) -> "CaseStep":
        return replace(self, answered=list(self.answered))
