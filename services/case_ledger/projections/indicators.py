"""The management indicators: what the SGP's management information reports of a period.

The rules, stated once (docs/operations.md repeats them for readers of the figures):
- a case is an attention of the day (UTC) and period it was submitted in, whatever its outcome;
- its time runs from submission to its end (completed or rejected); open cases have none yet;
- a step counts for its entity in the period its first attempt was dispatched (as in the ANS
  report, whose projection gives the steps), and each attempt beyond its first is a retry;
- a rejected case is ranked by the kind of its rejection and the step that decided it: the
  first step an entity refused, else the step whose attempts all failed. The entity's own words
  are left out (they may name a plate or a person);
- dead letters are what each source's dead-letter subject holds now, not a period's.
"""

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from schemas.catalog import ProcedureSpec
from schemas.indicators import (
    ChannelDay,
    EntityFigures,
    IndicatorsReport,
    ProcedureFigures,
    RejectionKind,
    RejectionReason,
    SavingsLine,
    StepDay,
)
from schemas.savings import (
    CaseSavings,
    DocumentSpared,
    SavingsAssumptions,
    case_savings,
    savings_assumptions,
)

from ..domain import ERASED_REASON
from .indicator_rows import CaseRow, IndicatorChanges, IndicatorRows, indicator_rows_for
from .sla import catch_up as catch_up_steps
from .sla_rows import PositionMoved, SlaRows, StepRow, sla_rows_for

_TOPICS = frozenset(
    {"CaseSubmitted", "CaseCompleted", "CaseRejected", "StepRejected", "StepAttemptFailed",
     "StepOverdue", "DataShared"}
)  # fmt: skip


def catch_up(ledger: Any, rows: IndicatorRows, batch: int = 5000) -> int:
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


def apply_event(changes: IndicatorChanges, event: Any) -> None:
    kind = type(event).__name__
    case_id = str(event.originator_id)
    if kind == "CaseSubmitted":
        if changes.case(case_id) is None:
            changes.put_case(CaseRow(case_id, event.procedure, event.channel, event.timestamp))
        return
    row = changes.case(case_id)
    if row is None:
        return  # a case whose opening the projection never saw (cannot happen in order)
    if kind == "DataShared":
        if event.from_step in row.shared_from:
            return  # shared with a second step: still one document
        row = replace(row, shared_from=(*row.shared_from, event.from_step))
    elif kind == "StepRejected":
        row = replace(row, first_refused=row.first_refused or event.step_id)
    elif kind in ("StepAttemptFailed", "StepOverdue"):
        row = replace(row, last_failed=event.step_id)
    elif kind == "CaseCompleted":
        row = replace(row, ended_at=event.timestamp, status="completed")
    else:  # CaseRejected
        row = replace(
            row,
            ended_at=event.timestamp,
            status="rejected",
            rejection=rejection_kind(event.reason, row),
        )
    changes.put_case(row)


def rejection_kind(reason: str, row: CaseRow) -> RejectionKind:
    """The kind of a case's rejection, from the ledger's reason (see planner.py) and its steps."""
    if reason == ERASED_REASON:
        return "erased"
    if reason.startswith("invalid request"):
        return "invalid-request"
    if row.first_refused is not None:
        return "refused"
    if row.last_failed is not None:
        return "no-answer"
    return "other"


def nearest_rank(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


def figures(
    start: datetime,
    end: datetime,
    cases: list[CaseRow],
    steps: list[StepRow],
    catalog: Mapping[str, ProcedureSpec],
    assumptions: SavingsAssumptions | None = None,
) -> IndicatorsReport:
    """The indicators of a period from its case rows and step rows (a pure function)."""
    assumptions = assumptions or savings_assumptions()
    per_day: Counter[tuple[str, str]] = Counter(
        (c.channel, c.submitted_at.date().isoformat()) for c in cases
    )
    by_procedure: dict[str, list[CaseRow]] = defaultdict(list)
    for case in cases:
        by_procedure[case.procedure].append(case)
    procedures = []
    for code in sorted(by_procedure):
        rows = by_procedure[code]
        taken = sorted(
            (c.ended_at - c.submitted_at).total_seconds() for c in rows if c.ended_at is not None
        )
        procedures.append(
            ProcedureFigures(
                procedure=code,
                attentions=len(rows),
                completed=sum(c.status == "completed" for c in rows),
                rejected=sum(c.status == "rejected" for c in rows),
                open=sum(c.status == "open" for c in rows),
                mean_s=round(sum(taken) / len(taken), 6) if taken else None,
                p95_s=nearest_rank(taken, 0.95),
            )
        )
    by_entity: dict[str, list[StepRow]] = defaultdict(list)
    for step in steps:
        by_entity[step.entity].append(step)
    entities = [
        EntityFigures(
            entity=entity,
            attentions=len(rows),
            completed=sum(r.outcome == "completed" for r in rows),
            rejected=sum(r.outcome == "rejected" for r in rows),
            failed=sum(r.outcome == "failed" for r in rows),
            retries=sum(r.attempts - 1 for r in rows),
            oldest_open_since=min(
                (r.dispatched_at for r in rows if r.finished_at is None), default=None
            ),
            dead_letters=None,  # the bus knows them, not the ledger: see with_dead_letters
        )
        for entity, rows in sorted(by_entity.items())
    ]
    traffic: Counter[tuple[str, str, str, str]] = Counter(
        (s.dispatched_at.date().isoformat(), s.entity, s.procedure, s.outcome or "open")
        for s in steps
    )
    return IndicatorsReport(
        start=start,
        end=end,
        step_days=[
            StepDay.model_validate(
                {"day": day, "entity": entity, "procedure": proc, "outcome": outcome, "steps": n}
            )
            for (day, entity, proc, outcome), n in sorted(traffic.items())
        ],
        channel_days=[
            ChannelDay.model_validate({"channel": ch, "day": day, "attentions": n})
            for (ch, day), n in sorted(per_day.items())
        ],
        procedures=procedures,
        entities=entities,
        rejection_reasons=_ranked(cases, catalog),
        savings=savings_lines(cases, catalog, assumptions),
        savings_basis=assumptions.label,
    )


def spared_documents(
    case: CaseRow, catalog: Mapping[str, ProcedureSpec], assumptions: SavingsAssumptions
) -> list[DocumentSpared]:
    """The documents a case's citizen did not bring: each step whose data was shared on, when
    the assumptions say what getting that service's document in person costs."""
    proc = catalog.get(case.procedure)
    if proc is None:
        return []
    spared = []
    for step_id in case.shared_from:
        spec = next((s for s in proc.steps if s.id == step_id), None)
        cost = None if spec is None else assumptions.of(spec.entity, spec.service)
        if cost is not None:
            spared.append(
                DocumentSpared(
                    entity=cost.entity,
                    service=cost.service,
                    trips=cost.trips,
                    hours=cost.hours,
                    soles=cost.soles,
                )
            )
    return spared


def savings_lines(
    cases: list[CaseRow], catalog: Mapping[str, ProcedureSpec], assumptions: SavingsAssumptions
) -> list[SavingsLine]:
    groups: dict[tuple[str, str], list[CaseRow]] = defaultdict(list)
    for case in cases:
        groups[(case.channel, case.procedure)].append(case)
    lines = []
    for (channel, procedure), rows in sorted(groups.items()):
        counted = [case_savings(spared_documents(c, catalog, assumptions))
                   for c in rows if c.status == "completed"]  # fmt: skip
        lines.append(
            SavingsLine(
                channel=channel,
                procedure=procedure,
                cases=len(counted),
                not_counted=len(rows) - len(counted),
                documents=sum(s.documents for s in counted),
                entities=sum(s.entities for s in counted),
                trips=sum(s.trips for s in counted),
                hours=round(sum(s.hours for s in counted), 6),
                soles=round(sum(s.soles for s in counted), 6),
            )
        )
    return lines


def _ranked(cases: list[CaseRow], catalog: Mapping[str, ProcedureSpec]) -> list[RejectionReason]:
    counts: Counter[tuple[str, str | None, str | None]] = Counter()
    for case in cases:
        if case.status != "rejected" or case.rejection is None:
            continue
        step_id = {"refused": case.first_refused, "no-answer": case.last_failed}.get(case.rejection)
        proc = catalog.get(case.procedure)
        spec = None
        if step_id is not None and proc is not None:
            spec = next((s for s in proc.steps if s.id == step_id), None)
        if spec is None:
            counts[(case.rejection, None, None)] += 1
        else:
            counts[(case.rejection, spec.entity, spec.service)] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return [
        RejectionReason.model_validate(
            {"kind": kind, "entity": entity, "service": service, "cases": n}
        )
        for (kind, entity, service), n in ranked
    ]


def ledger_indicators(
    ledger: Any,
    start: datetime,
    end: datetime,
    *,
    rows: IndicatorRows | None = None,
    step_rows: SlaRows | None = None,
) -> IndicatorsReport:
    """The indicators over a ledger: both projections caught up first, then read for the period."""
    rows = rows or indicator_rows_for(ledger.recorder)
    step_rows = step_rows or sla_rows_for(ledger.recorder)
    catch_up(ledger, rows)
    catch_up_steps(ledger, step_rows)
    return figures(
        start,
        end,
        rows.submitted_between(start, end),
        step_rows.steps_between(start, end, None),
        ledger.catalog,
    )


def ledger_case_savings(
    ledger: Any, start: datetime, end: datetime, *, rows: IndicatorRows | None = None
) -> list[tuple[CaseRow, CaseSavings | None]]:
    """Each case submitted in the period with its savings; None for a case not counted (not
    completed: docs/impact.md)."""
    rows = rows or indicator_rows_for(ledger.recorder)
    catch_up(ledger, rows)
    assumptions = savings_assumptions()
    return [
        (
            case,
            case_savings(spared_documents(case, ledger.catalog, assumptions))
            if case.status == "completed"
            else None,
        )
        for case in sorted(rows.submitted_between(start, end), key=lambda c: c.submitted_at)
    ]
