"""How cases, their histories and a running stack look in a terminal."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from schemas.views import CaseHistory, CaseView, CitizenAccessLog, HistoryEntry

STATUS_STYLE = {
    "submitted": "cyan",
    "in_progress": "yellow",
    "dispatched": "yellow",
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
    steps = table(
        "step",
        "entity",
        "service",
        "status",
        "attempts",
        "dispatched",
        "finished",
        "reason",
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
    return Group(header, steps)


def case_history(history: CaseHistory) -> Table:
    events = table(
        "#",
        "event",
        "occurred at (UTC)",
        "actor",
        "what",
        title=f"history of case {history.case_id} (channel {history.channel})",
    )
    for entry in history.events:
        events.add_row(
            str(entry.position),
            entry.type,
            f"{entry.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}"[:-3],
            actor(entry.actor),
            Text(summary(entry)),  # not markup: an erased value reads "[erased]"
        )
    return events


def access_log(log: CitizenAccessLog) -> Table | str:
    """The citizen's own view; the citizen is named by the caller, never printed here."""
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
    """One line that says what an event means; personal data stays out of it."""
    d = entry.data
    match entry.type:
        case "CaseSubmitted":
            return f"procedure {d.get('procedure')}, inputs {pairs(d.get('inputs', {}))}" + (
                attendance(d["attendance"]) if d.get("attendance") else ""
            )
        case "StepDispatched":
            return (
                f"{d.get('step_id')} → {d.get('entity')}/{d.get('service')}, "
                f"attempt {d.get('attempt')}"
            )
        case "DataShared":
            return (
                f"{d.get('from_entity')} ({d.get('from_step')}) → "
                f"{d.get('to_entity')} ({d.get('to_step')}): {', '.join(d.get('fields', []))}; "
                f"purpose: {d.get('purpose')}; legal basis: {d.get('legal_basis')}"
            )
        case "CompensationDispatched":
            return (
                f"undo {d.get('compensates')} → {d.get('entity')}/{d.get('service')}, "
                f"attempt {d.get('attempt')}"
            )
        case "StepCompleted" | "CompensationCompleted":
            return f"{d.get('step_id')}: {pairs(d.get('result', {}))}"
        case (
            "StepRejected"
            | "StepAttemptFailed"
            | "StepOverdue"
            | "CompensationRejected"
            | "CompensationAttemptFailed"
        ):
            return f"{d.get('step_id')}: {d.get('reason', '')}"
        case "CaseRejected":
            return str(d.get("reason", ""))
        case "CaseCompleted":
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
    """Which data an entity was sent: field names, with values only where they are not personal."""
    shown = []
    for key, value in request.items():
        if key == "citizen" or isinstance(value, dict | list):
            shown.append(f"{key}: {', '.join(value) if isinstance(value, dict) else '…'}")
        else:
            shown.append(f"{key}={value}")
    return "; ".join(shown)
