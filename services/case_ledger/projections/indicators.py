"""The management indicators: what the SGP's management information reports of a period.

The rules, stated once (docs/operations.md repeats them for readers of the figures):
- a case is an attention of the day (UTC) and period it was submitted in, whatever its outcome;
- its time runs from submission to its end (completed or rejected); open cases have none yet;
  the average is exact, the p95 read from log-scale buckets (histogram.py, within 4.9 %);
- a step counts for its entity in the period its first attempt was dispatched (as in the ANS
  report, whose projection gives the steps), and each attempt beyond its first is a retry;
- a rejected case is ranked by the kind of its rejection and the step that decided it: the
  first step an entity refused, else the step whose attempts all failed. The entity's own words
  are left out (they may name a plate or a person);
- dead letters are what each source's dead-letter subject holds now, not a period's.

Over 300 lines because each rule above is one small function here, next to the others it is
summed with; the rows it reads are in indicator_rows.py.
"""

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
from . import tracking
from .histogram import percentile
from .indicator_rows import (
    CaseGroup,
    CaseRow,
    Durations,
    IndicatorChanges,
    IndicatorRows,
    durations_of,
    groups_of,
    indicator_rows_for,
)
from .sla import projection as sla_projection
from .sla_rows import SlaRows, StepCount, sla_rows_for, step_counts

_TOPICS = frozenset(
    {"CaseSubmitted", "CaseCompleted", "CaseRejected", "StepRejected", "StepAttemptFailed",
     "StepOverdue", "DataShared"}
)  # fmt: skip


def catch_up(ledger: Any, rows: IndicatorRows, batch: int = 5000) -> int:
    """Apply what the ledger recorded after the projection's position; events applied."""
    return tracking.catch_up(ledger, tracking.Projection(rows, _TOPICS, apply_event), batch=batch)


def apply_event(changes: IndicatorChanges, event: Any) -> None:
    kind = type(event).__name__
    case_id = str(event.originator_id)
    if kind == "CaseSubmitted":
        if changes.case(case_id) is None:
            changes.put_case(CaseRow(case_id, event.procedure, event.channel, event.timestamp))
        return
    row = before = changes.case(case_id)
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
    changes.put_case(row, before)


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


def figures(
    start: datetime,
    end: datetime,
    cases: list[CaseGroup],
    durations: Mapping[str, Durations],
    steps: list[StepCount],
    catalog: Mapping[str, ProcedureSpec],
    assumptions: SavingsAssumptions | None = None,
) -> IndicatorsReport:
    """The indicators of a period from its case groups, their times (per procedure) and its
    step counts (a pure function)."""
    assumptions = assumptions or savings_assumptions()
    per_day: Counter[tuple[str, str]] = Counter()
    by_procedure: dict[str, Counter[str]] = defaultdict(Counter)
    for group in cases:
        per_day[(group.channel, group.day)] += group.cases
        by_procedure[group.procedure][group.status] += group.cases
    procedures = []
    for code in sorted(by_procedure):
        counts, taken = by_procedure[code], durations.get(code, Durations())
        procedures.append(
            ProcedureFigures(
                procedure=code,
                attentions=sum(counts.values()),
                completed=counts["completed"],
                rejected=counts["rejected"],
                open=counts["open"],
                mean_s=round(taken.total_s / taken.cases, 6) if taken.cases else None,
                p95_s=percentile(taken.buckets, 95),
            )
        )
    by_entity: dict[str, list[StepCount]] = defaultdict(list)
    for count in steps:
        by_entity[count.entity].append(count)
    entities = [
        EntityFigures(
            entity=entity,
            attentions=sum(c.steps for c in counts),
            completed=sum(c.steps for c in counts if c.outcome == "completed"),
            rejected=sum(c.steps for c in counts if c.outcome == "rejected"),
            failed=sum(c.steps for c in counts if c.outcome == "failed"),
            retries=sum(c.retries for c in counts),
            oldest_open_since=min(
                (c.oldest_open for c in counts if c.oldest_open is not None), default=None
            ),
            dead_letters=None,  # the bus knows them, not the ledger: see with_dead_letters
        )
        for entity, counts in sorted(by_entity.items())
    ]
    traffic: Counter[tuple[str, str, str, str]] = Counter()
    for c in steps:
        traffic[(c.day, c.entity, c.procedure, c.outcome or "open")] += c.steps
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
    cases: list[CaseGroup], catalog: Mapping[str, ProcedureSpec], assumptions: SavingsAssumptions
) -> list[SavingsLine]:
    """`case_savings` summed per channel and procedure. Cases with the same shared steps save
    the same, so each distinct set is priced once (100,000 cases share a handful of sets)."""
    groups: dict[tuple[str, str], Counter[tuple[str, tuple[str, ...]]]] = defaultdict(Counter)
    for case in cases:
        groups[(case.channel, case.procedure)][(case.status, case.shared_from)] += case.cases
    priced: dict[tuple[str, tuple[str, ...]], CaseSavings] = {}
    lines = []
    for (channel, procedure), kinds in sorted(groups.items()):
        totals = {"cases": 0, "not_counted": 0, "documents": 0, "entities": 0, "trips": 0}
        hours = soles = 0.0
        for (status, shared), n in kinds.items():
            if status != "completed":
                totals["not_counted"] += n
                continue
            key = (procedure, shared)
            if key not in priced:
                probe = CaseRow("", procedure, channel, datetime.min, shared_from=shared)
                priced[key] = case_savings(spared_documents(probe, catalog, assumptions))
            saved = priced[key]
            totals["cases"] += n
            totals["documents"] += n * saved.documents
            totals["entities"] += n * saved.entities
            totals["trips"] += n * saved.trips
            hours += n * saved.hours
            soles += n * saved.soles
        lines.append(
            SavingsLine(
                channel=channel,
                procedure=procedure,
                hours=round(hours, 6),
                soles=round(soles, 6),
                **totals,
            )
        )
    return lines


def _ranked(cases: list[CaseGroup], catalog: Mapping[str, ProcedureSpec]) -> list[RejectionReason]:
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
            counts[(case.rejection, None, None)] += case.cases
        else:
            counts[(case.rejection, spec.entity, spec.service)] += case.cases
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
    tracking.catch_up(  # one pass over the notifications for both
        ledger, tracking.Projection(rows, _TOPICS, apply_event), sla_projection(ledger, step_rows)
    )
    return period_figures(rows, step_rows, start, end, ledger.catalog)


def period_figures(
    rows: IndicatorRows,
    step_rows: SlaRows,
    start: datetime,
    end: datetime,
    catalog: Mapping[str, ProcedureSpec],
) -> IndicatorsReport:
    """The indicators read from the projections as they stand (caught up or not)."""
    hours = rows.case_hours(start, end)
    return figures(
        start,
        end,
        groups_of(hours),
        durations_of(hours),
        step_counts(step_rows, start, end),
        catalog,
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
