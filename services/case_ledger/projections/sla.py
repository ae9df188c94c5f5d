"""The ANS (service-level agreement) projection and report.

The projection follows the ledger's notification log from its own tracked position and keeps
one row per step: when its first attempt was dispatched, when and how its last attempt ended,
how many attempts it took, and whether an attempt passed its deadline, with per-hour aggregates
of them (sla_rows.py). The report reads the period's aggregates and its late and unanswered
steps, never the ledger's events.

The rules, stated once:
- a step belongs to the period in which its first attempt was dispatched;
- its duration runs from that dispatch to its final answer (completed or rejected by the entity,
  or its last attempt failed), across retries: the citizen waits the whole time;
- it is within the ANS when it was answered within its deadline (the catalog's, for that step
  of that procedure, when the step was first dispatched) and no attempt was overdue;
- the percentiles of the durations are nearest-rank, read from log-scale buckets
  (histogram.py): within 4.9 % of the exact value;
- a step still unanswered past its deadline is a breach already; one unanswered within its
  deadline is not counted yet (it is `open`).
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from schemas.catalog import ProcedureSpec
from schemas.event_types import EventType
from schemas.sla import SlaQuery, SlaReport

from . import tracking
from .sla_rows import (
    AnsweredFigures,
    Group,
    SlaChanges,
    SlaRows,
    StepRow,
    answered,
)

Deadlines = dict[tuple[str, str], float]  # (procedure, step id) -> the ANS deadline, seconds

# The events that move a step's row; every other event only moves the position.
_FINISHING: dict[str, str] = {
    EventType.STEP_COMPLETED: "completed",
    EventType.STEP_REJECTED: "rejected",
}
_ATTEMPT_ENDING: dict[str, str] = {
    EventType.STEP_ATTEMPT_FAILED: "failed",
    EventType.STEP_OVERDUE: "failed",
}
_CASE_ENDINGS: dict[str, str] = {
    EventType.CASE_COMPLETED: "completed",
    EventType.CASE_REJECTED: "rejected",
}
_TOPICS = frozenset(
    {
        EventType.CASE_SUBMITTED,
        EventType.STEP_DISPATCHED,
        *_FINISHING,
        *_ATTEMPT_ENDING,
        *_CASE_ENDINGS,
    }
)


def catch_up(ledger: Any, rows: SlaRows, batch: int = 5000) -> int:
    """Apply what the ledger recorded after the projection's position; events applied."""
    return tracking.catch_up(ledger, projection(ledger, rows), batch=batch)


def projection(ledger: Any, rows: SlaRows) -> tracking.Projection:
    """The ANS projection over its rows, its steps given the ledger's catalog's deadlines."""
    deadlines = deadlines_of(ledger.catalog)
    return tracking.Projection(
        rows, _TOPICS, lambda changes, event: apply_event(changes, event, deadlines)
    )


def deadlines_of(catalog: Mapping[str, ProcedureSpec]) -> Deadlines:
    """Each step's ANS deadline, in seconds, by (procedure, step id)."""
    return {
        (proc.code, step.id): step.deadline.total_seconds()
        for proc in catalog.values()
        for step in proc.steps
    }


def apply_event(changes: SlaChanges, event: Any, deadlines: Deadlines) -> None:
    kind = type(event).__name__
    case_id = str(event.originator_id)
    if kind == EventType.CASE_SUBMITTED:
        changes.add_case(case_id, event.procedure, event.channel)
        return
    if kind in _CASE_ENDINGS:
        changes.end_case(case_id, _CASE_ENDINGS[kind])
        return
    row = changes.step(case_id, event.step_id)
    if kind == EventType.STEP_DISPATCHED:
        if row is None:
            procedure = changes.case_procedure(case_id)
            if procedure is None:
                return  # a case whose opening the projection never saw (cannot happen in order)
            row = StepRow(
                case_id, event.step_id, procedure, event.entity, event.service,
                event.timestamp, None, None, event.attempt, False,
                deadlines.get((procedure, event.step_id), 0.0),
            )  # fmt: skip
            changes.put_step(row)
        else:
            again = replace(row, finished_at=None, outcome=None, attempts=event.attempt)
            changes.put_step(again, row)
        return
    if row is None:
        return  # a compensation's answer: not part of the ANS
    outcome = _FINISHING.get(kind) or _ATTEMPT_ENDING[kind]
    changes.put_step(
        replace(
            row,
            finished_at=event.timestamp,
            outcome=outcome,
            overdue=row.overdue or kind == EventType.STEP_OVERDUE,
        ),
        row,
    )


def is_breach(row: StepRow, now: datetime) -> bool:
    """Answered after the deadline, overdue once, or still unanswered past the deadline."""
    if row.finished_at is None:
        return row.overdue or (now - row.dispatched_at).total_seconds() > row.deadline_s
    return row.late


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


def report(
    rows: SlaRows,
    catalog: Mapping[str, ProcedureSpec],
    start: datetime,
    end: datetime,
    now: datetime,
    entity: str | None = None,
) -> list[SlaLine]:
    # The deadline a line shows: its service's in that procedure (the longest, if it is asked
    # twice with different deadlines).
    group_deadlines: dict[Group, float] = {}
    for proc in catalog.values():
        for step in proc.steps:
            key = (step.entity, step.service, proc.code)
            seconds = step.deadline.total_seconds()
            group_deadlines[key] = max(seconds, group_deadlines.get(key, 0.0))
    figures = answered(rows, start, end, entity)
    unanswered: dict[Group, list[StepRow]] = defaultdict(list)
    for row in rows.unanswered(start, end, entity):
        unanswered[(row.entity, row.service, row.procedure)].append(row)
    lines = []
    for key in sorted({*figures, *unanswered}):
        line = _line(key, figures.get(key), unanswered.get(key, []), now)
        lines.append(replace(line, deadline_s=group_deadlines.get(key, 0.0)))
    return lines


def _line(
    key: Group,
    answered: AnsweredFigures | None,
    unanswered: list[StepRow],
    now: datetime,
) -> SlaLine:
    entity, service, procedure = key
    breaches = [] if answered is None else [Breach(c, s, d) for c, s, d in answered.late]
    open_ = 0
    for row in unanswered:
        if is_breach(row, now):
            breaches.append(Breach(row.case_id, row.step_id, None))
        else:
            open_ += 1
    return SlaLine(
        entity=entity,
        service=service,
        procedure=procedure,
        deadline_s=0.0,  # set by the caller, which knows the catalog's steps
        steps=(0 if answered is None else answered.answered) + len(unanswered) - open_,
        within=0 if answered is None else answered.within,
        open=open_,
        p50_s=None if answered is None else answered.p50_s,
        p95_s=None if answered is None else answered.p95_s,
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
