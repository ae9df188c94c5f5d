"""What the auditor's timeline shows of a case's history: rows, filters, pages, later events.

Pure functions over `CaseHistory`, so the page module only asks the ledger and renders.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.views import CaseHistory, HistoryEntry

PAGE_EVENTS = 100
# Events that say something went wrong: the "failures only" filter keeps these.
FAILURES = frozenset(
    {
        "StepRejected",
        "StepAttemptFailed",
        "StepOverdue",
        "StepAnsweredLate",
        "CompensationRejected",
        "CompensationAttemptFailed",
        "CaseRejected",
    }
)


@dataclass(frozen=True)
class TimelineFilter:
    failures_only: bool = False
    entity: str = ""
    event_type: str = ""


@dataclass(frozen=True)
class TimelineRow:
    entry: HistoryEntry
    actor: str
    entities: tuple[str, ...]
    summary: str
    shared: dict[str, Any] | None  # a DataShared event: from, to, fields, purpose, legal basis
    failure: bool
    later: bool  # after the "as of" moment: greyed
    json: str


@dataclass(frozen=True)
class TimelinePage:
    rows: list[TimelineRow]
    total: int  # events that pass the filter
    page: int
    pages: int
    entities: list[str]  # every entity of the case, for the filter
    types: list[str]  # every event type of the case, for the filter


def entities_of(entry: HistoryEntry) -> tuple[str, ...]:
    data = entry.data
    found = [str(data[k]) for k in ("entity", "from_entity", "to_entity") if data.get(k)]
    if entry.actor.get("kind") in {"entity", "adapter"} and entry.actor.get("id"):
        found.append(entry.actor["id"])
    return tuple(dict.fromkeys(found))


def summary_of(entry: HistoryEntry) -> str:
    data = entry.data
    parts = [str(data[k]) for k in ("step_id", "procedure", "service") if data.get(k)]
    if data.get("attempt"):
        parts.append(f"intento {data['attempt']}")
    if data.get("reason"):
        parts.append(str(data["reason"]))
    return " · ".join(parts)


def _shared(entry: HistoryEntry) -> dict[str, Any] | None:
    if entry.type != "DataShared":
        return None
    data = entry.data
    return {
        "from": data.get("from_entity", ""),
        "to": data.get("to_entity", ""),
        "fields": list(data.get("fields", [])),
        "purpose": data.get("purpose", ""),
        "legal_basis": data.get("legal_basis", ""),
    }


def timeline(
    history: CaseHistory,
    chosen: TimelineFilter,
    page: int,
    later_than: int | None = None,
) -> TimelinePage:
    """The page `page` of the filtered events; with `later_than` (the last version of an "as
    of" replay), the events after it are marked as later."""
    kept = [
        e
        for e in history.events
        if (not chosen.failures_only or e.type in FAILURES)
        and (not chosen.entity or chosen.entity in entities_of(e))
        and (not chosen.event_type or e.type == chosen.event_type)
    ]
    pages = max(1, -(-len(kept) // PAGE_EVENTS))
    page = min(max(1, page), pages)
    shown = kept[(page - 1) * PAGE_EVENTS : page * PAGE_EVENTS]
    rows = [
        TimelineRow(
            entry=e,
            actor=":".join(v for v in (e.actor.get("kind"), e.actor.get("id")) if v),
            entities=entities_of(e),
            summary=summary_of(e),
            shared=_shared(e),
            failure=e.type in FAILURES,
            later=later_than is not None and e.position > later_than,
            json=json.dumps(_plain(e), indent=2, ensure_ascii=False, default=str),
        )
        for e in shown
    ]
    every_entity = sorted({x for e in history.events for x in entities_of(e)})
    every_type = sorted({e.type for e in history.events})
    return TimelinePage(rows, len(kept), page, pages, every_entity, every_type)


def _plain(entry: HistoryEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


def moment_in(text: str, zone: Any) -> datetime | None:
    """A `datetime-local` value (Lima time), or None when empty or not a moment."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
