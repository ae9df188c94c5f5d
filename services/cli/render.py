"""How cases, their histories and a running stack look in a terminal.

These views are for the people the CLI serves, who read the ledger with its master key (a clerk
following a case, an auditor). The scalar values a case recorded are printed as the ledger returns
them, decrypted, or `[erased]` once the citizen's key is destroyed: personal ones among them (a
seller's DNI in the inputs, the names RENIEC answered, what a request carried). The applicant's
own record (`citizen`, in the opening event and in each request) is never printed, only its field
names in what an entity received; nor is the DNI in the access log, whose reader named it.

Over 300 lines because it holds every view of the CLI, one short function each, so that the
columns and wording of the terminal stay consistent in one place.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from schemas.event_types import EventType
from schemas.views import CaseHistory, CaseView, CitizenAccessLog, HistoryEntry

from . import layouts

# The least a prose column gets in a table before the view is stacked instead.
FREE_COLUMN_MIN = 24

STATUS_STYLE = {
    "submitted": "cyan",
    "in_progress": "yellow",
    "dispatched": "yellow",
    "accepted": "yellow",
    "pending": "dim",
    "completed": "green",
    "rejected": "red",
    "failed": "red",
}


def status(value: str) -> Text:
    return Text(value, style=STATUS_STYLE.get(value, ""))


def when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "—"


def clock(moment: datetime | None, timespec: str = "seconds") -> str:
    """Time of day in UTC; the date is in the case header."""
    if moment is None:
        return "—"
    return moment.astimezone(UTC).time().isoformat(timespec=timespec)


def table(*columns: str, title: str) -> Table:
    """A compact table whose cells wrap rather than cut text off in a narrow terminal."""
    t = Table(
        box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold", padding=(0, 1)
    )
    for name in columns:
        t.add_column(name, overflow="fold")
    return t


def fixed_table(*columns: str, free: str, title: str) -> Table:
    """A table whose `columns` never wrap (identifiers, times) and whose last, `free` column of
    prose wraps at words; too wide for the terminal, it gives way to a stacked layout."""
    t = Table(
        box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold", padding=(0, 1)
    )
    for name in columns:
        t.add_column(name, no_wrap=True)
    t.add_column(free, min_width=FREE_COLUMN_MIN)
    return t


def case_view(view: CaseView) -> Group:
    header = Text.assemble(
        ("case ", "bold"),
        (str(view.case_id), "bold"),
        "  ",
        status(view.status),
        f"\nprocedure {view.procedure} · channel {view.channel}"
        f"\nsubmitted {when(view.submitted_at)} · updated {when(view.updated_at)}",
    )
    if view.reason:
        header.append(f"\nreason: {view.reason}", style="red")
    return Group(header, layouts.Fitted(_steps_table(view), lambda: _stacked_steps(view)))


def _steps_table(view: CaseView) -> Table:
    steps = fixed_table(
        "step",
        "entity",
        "service",
        "status",
        "attempts",
        "dispatched",
        "finished",
        free="reason",
        title="steps (times in UTC)",
    )
    for step in view.steps:
        steps.add_row(
            step.step_id,
            step.entity,
            step.service,
            status(step.status),
            str(step.attempts),
            clock(step.dispatched_at),
            clock(step.finished_at),
            step.reason or "",
        )
    return steps


def _stacked_steps(view: CaseView) -> Group:
    """Each step on one line (id, status, attempts, times); its entity and reason below it."""
    ids = layouts.widest([s.step_id for s in view.steps])
    states = layouts.widest([s.status for s in view.steps])
    parts: list[Any] = [Text("steps (times in UTC)", style="bold")]
    for step in view.steps:
        parts.append(
            layouts.line(
                (step.step_id, ids),
                (status(step.status), states),
                (f"attempt {step.attempts}", 10),
                (f"{clock(step.dispatched_at)} → {clock(step.finished_at)}", 0),
            )
        )
        below: list[str | Text] = [Text(f"{step.entity} · {step.service}", style="dim")]
        if step.reason:
            below.append(f"reason: {step.reason}")
        parts.append(layouts.details(*below))
    return Group(*parts)


def case_history(history: CaseHistory) -> Group:
    title = f"history of case {history.case_id} (channel {history.channel})"
    return Group(layouts.Fitted(_history_table(history, title), lambda: _stacked_history(history)))


def _history_table(history: CaseHistory, title: str) -> Table:
    events = fixed_table("#", "event", "occurred at (UTC)", "actor", free="what", title=title)
    for entry in history.events:
        events.add_row(
            str(entry.position),
            entry.type,
            f"{entry.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"[:-3],
            actor(entry.actor),
            Text(summary(entry)),  # not markup: an erased value reads "[erased]"
        )
    return events


def _stacked_history(history: CaseHistory) -> Group:
    """Each event on one line (position, time, type, actor), what it means below; a line with
    the date wherever the day changes."""
    positions = layouts.widest([str(e.position) for e in history.events])
    types = layouts.widest([e.type for e in history.events])
    parts: list[Any] = [
        Text(f"history of case {history.case_id}", style="bold"),
        Text(f"channel {history.channel} · times in UTC"),
    ]
    day = None
    for entry in history.events:
        moment = entry.occurred_at.astimezone(UTC)
        if moment.date() != day:
            day = moment.date()
            parts.append(Text(day.isoformat(), style="bold"))
        parts.append(
            layouts.line(
                (str(entry.position).rjust(positions), positions),
                (f"{moment:%H:%M:%S.%f}"[:-3], 12),
                (entry.type, types),
                (actor(entry.actor), 0),
            )
        )
        what = summary(entry)
        if what:
            parts.append(layouts.details(Text(what)))  # not markup: "[erased]" stays
    return Group(*parts)


def access_log(log: CitizenAccessLog) -> Group:
    """The citizen's own view; the citizen is named by the caller, never printed here."""
    return Group(_transfers(log), _reads(log))


def _reads(log: CitizenAccessLog) -> Table | str:
    if not log.reads:
        return "nobody has read this citizen's data through Ventanilla"
    rows = table(
        "when (UTC)",
        "who",
        "what",
        "case",
        "purpose",
        "request",
        "outcome",
        title="consultado por (who read this citizen's data)",
    )
    for read in log.reads:
        rows.add_row(
            f"{read.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            f"{read.reader} ({read.service})",
            read.action,
            str(read.case_id or "—"),
            read.purpose or "—",
            read.request_id or "—",
            "refused" if read.refused else "read",
        )
    return rows


def _transfers(log: CitizenAccessLog) -> Table | str:
    if not log.entries:
        return "no entity has received this citizen's data through the bus"
    rows = table(
        "when (UTC)",
        "case",
        "procedure",
        "as",
        "from",
        "to",
        "fields",
        "purpose · legal basis",
        title="who used this citizen's data",
    )
    for entry in log.entries:
        rows.add_row(
            f"{entry.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            str(entry.case_id),
            entry.procedure,
            entry.role,
            f"{entry.from_entity} ({entry.from_step})",
            f"{entry.to_entity} ({entry.to_step})",
            ", ".join(entry.fields),
            f"{entry.purpose} · {entry.legal_basis}",
        )
    return rows


def actor(who: Mapping[str, str]) -> str:
    return f"{who.get('kind', '?')} {who.get('id', '?')}" if who else "—"


def summary(entry: HistoryEntry) -> str:
    """One line that says what an event means, with the scalar values it recorded.

    Personal values among them (a seller's DNI, the names RENIEC answered) are shown as the
    ledger returns them: decrypted, or `[erased]`.
    """
    d = entry.data
    match entry.type:
        case EventType.CASE_SUBMITTED:
            return f"procedure {d.get('procedure')}, inputs {pairs(d.get('inputs', {}))}" + (
                attendance(d["attendance"]) if d.get("attendance") else ""
            )
        case EventType.STEP_DISPATCHED:
            return (
                f"{d.get('step_id')} → {d.get('entity')}/{d.get('service')}, "
                f"attempt {d.get('attempt')}"
            )
        case EventType.DATA_SHARED:
            return (
                f"{d.get('from_entity')} ({d.get('from_step')}) → "
                f"{d.get('to_entity')} ({d.get('to_step')}): {', '.join(d.get('fields', []))}; "
                f"purpose: {d.get('purpose')}; legal basis: {d.get('legal_basis')}"
            )
        case EventType.COMPENSATION_DISPATCHED:
            return (
                f"undo {d.get('compensates')} → {d.get('entity')}/{d.get('service')}, "
                f"attempt {d.get('attempt')}"
            )
        case EventType.STEP_COMPLETED | EventType.COMPENSATION_COMPLETED:
            return f"{d.get('step_id')}: {pairs(d.get('result', {}))}"
        case (
            EventType.STEP_REJECTED
            | EventType.STEP_ATTEMPT_FAILED
            | EventType.STEP_OVERDUE
            | EventType.COMPENSATION_REJECTED
            | EventType.COMPENSATION_ATTEMPT_FAILED
        ):
            return f"{d.get('step_id')}: {d.get('reason', '')}"
        case EventType.STEP_ACCEPTED:
            return f"{d.get('step_id')}: the entity answers by {d.get('expected_by')}"
        case EventType.STEP_ANSWERED_LATE:
            detail = d.get("reason") or pairs(d.get("result", {}))
            return f"{d.get('step_id')}: {d.get('outcome')} after it stopped counting; {detail}"
        case EventType.CASE_REJECTED:
            return str(d.get("reason", ""))
        case EventType.CASE_COMPLETED:
            return ""
    return pairs(d)


def attendance(at_counter: Mapping[str, Any]) -> str:
    consent = at_counter.get("consent") or {}
    return (
        f"; at the counter by clerk {at_counter.get('clerk')} under {at_counter.get('delegation')}"
        f"; citizen consented at {consent.get('given_at')} to {len(consent.get('flows', []))} "
        "data flows"
    )


def pairs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items() if not isinstance(v, dict | list))


def replay(history: CaseHistory) -> Group:
    """A case as it stood at a moment: its state, what each entity had received, its events."""
    parts: list[Any] = []
    moment = f"as of {when(history.as_of)}, " if history.as_of else ""
    parts.append(Text(f"replay {moment}up to event {history.version}", style="bold magenta"))
    if history.state is not None:
        parts.append(case_view(history.state))
    received = table(
        "sent (UTC)", "entity", "step", "attempt", "what it received", title="entities received"
    )
    for delivery in history.received:
        received.add_row(
            clock(delivery.sent_at, "milliseconds"),
            delivery.entity,
            delivery.step_id,
            str(delivery.attempt),
            Text(received_fields(delivery.request)),
        )
    parts += [received, case_history(history)]
    return Group(*parts)


def received_fields(request: Mapping[str, Any]) -> str:
    """Which data an entity was sent: nested values (the citizen, lists) by their field names
    only, every other value as sent, personal ones included (e.g. the names RENIEC holds)."""
    shown = []
    for key, value in request.items():
        if key == "citizen" or isinstance(value, dict | list):
            shown.append(f"{key}: {', '.join(value) if isinstance(value, dict) else '…'}")
        else:
            shown.append(f"{key}={value}")
    return "; ".join(shown)
