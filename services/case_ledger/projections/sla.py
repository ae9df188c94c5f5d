"""The ANS (service-level agreement) projection and report.

The projection follows the ledger's notification log from its own tracked position and keeps
one row per step: when its first attempt was dispatched, when and how its last attempt ended,
how many attempts it took, and whether an attempt passed its deadline. The report reads only
the rows of the period asked, never the ledger's events.

The rules, stated once:
- a step belongs to the period in which its first attempt was dispatched;
- its duration runs from that dispatch to its final answer (completed or rejected by the entity,
  or its last attempt failed), across retries: the citizen waits the whole time;
- it is within the ANS when it was answered within its deadline (the catalog's, for that step
  of that procedure) and no attempt was overdue;
- a step still unanswered past its deadline is a breach already; one unanswered within its
  deadline is not counted yet (it is `open`).
"""

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from schemas.catalog import ProcedureSpec
from schemas.sla import SlaQuery, SlaReport

from .sla_rows import PositionMoved, SlaChanges, SlaRows, StepRow

# The events that move a step's row; every other event only moves the position.
_FINISHING = {"StepCompleted": "completed", "StepRejected": "rejected"}
_ATTEMPT_ENDING = {"StepAttemptFailed": "failed", "StepOverdue": "failed"}
_CASE_ENDINGS = {"CaseCompleted": "completed", "CaseRejected": "rejected"}
_TOPICS = frozenset(
    {"CaseSubmitted", "StepDispatched", *_FINISHING, *_ATTEMPT_ENDING, *_CASE_ENDINGS}
)


def catch_up(ledger: Any, rows: SlaRows, batch: int = 5000) -> int:
    """Apply what the ledger recorded after the projection's position; events applied."""
    applied = 0
    while True:
        position = rows.position()
        notifications = ledger.notifications_after(position, batch)
        if not notifications:
            return applied
        try:
            with rows.changing(position, notifications[-1].id) as changes:
                for notification in notifications:
                    if notification.topic.rsplit(".", 1)[-1] in _TOPICS:
                        apply_event(changes, ledger.mapper.to_domain_event(notification))
        except PositionMoved:
            continue  # another reader applied these: read on from where it got
        applied += len(notifications)
        if len(notifications) < batch:
            return applied


def apply_event(changes: SlaChanges, event: Any) -> None:
    kind = type(event).__name__
    case_id = str(event.originator_id)
    if kind == "CaseSubmitted":
        changes.add_case(case_id, event.procedure, event.channel)
        return
    if kind in _CASE_ENDINGS:
        changes.end_case(case_id, _CASE_ENDINGS[kind])
        return
    row = changes.step(case_id, event.step_id)
    if kind == "StepDispatched":
        if row is None:
            procedure = changes.case_procedure(case_id)
            if procedure is None:
                return  # a case whose opening the projection never saw (cannot happen in order)
            row = StepRow(
                case_id, event.step_id, procedure, event.entity, event.service,
                event.timestamp, None, None, event.attempt, False,
            )  # fmt: skip
        else:
            row = replace(row, finished_at=None, outcome=None, attempts=event.attempt)
        changes.put_step(row)
        return
    if row is None:
        return  # a compensation's answer: not part of the ANS
    outcome = _FINISHING.get(kind) or _ATTEMPT_ENDING[kind]
    changes.put_step(
        replace(
            row,
            finished_at=event.timestamp,
            outcome=outcome,
            overdue=row.overdue or kind == "StepOverdue",
        )
    )


def is_breach(row: StepRow, deadline: timedelta, now: datetime) -> bool:
    """Answered after the deadline, overdue once, or still unanswered past the deadline."""
    if row.overdue:
        return True
    if row.finished_at is None:
        return now - row.dispatched_at > deadline
    return row.finished_at - row.dispatched_at > deadline


@dataclass(frozen=True)
class Breach:
    case_id: str
    step_id: str
    duration_s: float | None  # None: still unanswered


@dataclass(frozen=True)
class SlaLine:
    entity: str
    service: str
    procedure: str
    deadline_s: float
    steps: int
    within: int
    open: int
    p50_s: float | None
    p95_s: float | None
    breaches: tuple[Breach, ...]

    @property
    def within_pct(self) -> float | None:
        return None if self.steps == 0 else round(100.0 * self.within / self.steps, 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "service": self.service,
            "procedure": self.procedure,
            "deadline_s": self.deadline_s,
            "steps": self.steps,
            "within_deadline": self.within,
            "within_deadline_pct": self.within_pct,
            "open": self.open,
            "p50_s": self.p50_s,
            "p95_s": self.p95_s,
            "breaches": [
                {"case_id": b.case_id, "step_id": b.step_id, "duration_s": b.duration_s}
                for b in self.breaches
            ],
        }


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def report(
    rows: SlaRows,
    catalog: Mapping[str, ProcedureSpec],
    start: datetime,
    end: datetime,
    now: datetime,
    entity: str | None = None,
) -> list[SlaLine]:
    groups: dict[tuple[str, str, str], list[StepRow]] = defaultdict(list)
    for row in rows.steps_between(start, end, entity):
        groups[(row.entity, row.service, row.procedure)].append(row)
    lines = []
    for (entity_id, service, procedure), steps in sorted(groups.items()):
        lines.append(_line(entity_id, service, procedure, steps, catalog, now))
    return lines


def _line(
    entity: str,
    service: str,
    procedure: str,
    steps: list[StepRow],
    catalog: Mapping[str, ProcedureSpec],
    now: datetime,
) -> SlaLine:
    proc = catalog.get(procedure)
    deadlines: dict[str, timedelta] = {}
    durations: list[float] = []
    within = open_ = 0
    breaches: list[Breach] = []
    for row in steps:
        if row.step_id not in deadlines:
            deadlines[row.step_id] = proc.step(row.step_id).deadline if proc else timedelta(0)
        deadline = deadlines[row.step_id]
        taken = None if row.finished_at is None else row.finished_at - row.dispatched_at
        if taken is not None:
            durations.append(taken.total_seconds())
        if is_breach(row, deadline, now):
            breaches.append(
                Breach(row.case_id, row.step_id, None if taken is None else taken.total_seconds())
            )
        elif taken is None:
            open_ += 1
        else:
            within += 1
    durations.sort()
    deadline_s = max(deadlines.values()).total_seconds() if deadlines else 0.0
    return SlaLine(
        entity=entity,
        service=service,
        procedure=procedure,
        deadline_s=deadline_s,
        steps=len(steps) - open_,
        within=within,
        open=open_,
        p50_s=percentile(durations, 0.50),
        p95_s=percentile(durations, 0.95),
        breaches=tuple(sorted(breaches, key=lambda b: (b.case_id, b.step_id))),
    )


def ledger_sla_report(
    ledger: Any,
    start: datetime,
    end: datetime,
    now: datetime,
    entity: str | None = None,
    rows: SlaRows | None = None,
) -> list[SlaLine]:
    """The report over a ledger: its projection caught up first, then read for the period."""
    from .sla_rows import sla_rows_for

    rows = rows or sla_rows_for(ledger.recorder)
    catch_up(ledger, rows)
    return report(rows, ledger.catalog, start, end, now, entity)


def sla_report_of(ledger: Any, query: SlaQuery) -> SlaReport:
    """The report as the bus answers it (see schemas.sla)."""
    from datetime import UTC

    lines = ledger_sla_report(ledger, query.start, query.end, datetime.now(UTC), query.entity)
    return SlaReport.model_validate(
        {
            "start": query.start,
            "end": query.end,
            "entity": query.entity,
            "lines": [line.as_dict() for line in lines],
        }
    )
