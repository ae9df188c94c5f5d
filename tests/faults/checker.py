"""After a fault: read the ledger and the back offices' effect logs and count what went wrong.

- lost: a case a channel was told was accepted that the ledger does not have, or that did not
  reach a final state;
- duplicates in the ledger: a case opened or closed twice, a step (or compensation) completed,
  rejected or dispatched twice for the same attempt, a case the channels never submitted;
- duplicated back-office effects: more than one effect of a kind for one case (a second fee
  charged, a second card issued), or an effect for a step the ledger does not record as done
  (the citizen was charged and the ledger does not know). The fake back offices keep one effect
  per idempotency key (the step's operation id), so a step repeated under the same key cannot
  show here; a case opened twice, or a step redone under another key, would.
"""

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from schemas.event_types import FINAL_EVENTS, EventType
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.planner import operation_id
from services.case_ledger.store import LedgerStore

# Events that may appear once per step (or compensation) at most.
ONCE_PER_STEP = (
    EventType.STEP_COMPLETED,
    EventType.STEP_REJECTED,
    EventType.COMPENSATION_COMPLETED,
    EventType.COMPENSATION_REJECTED,
)
DONE_EVENTS = (EventType.STEP_COMPLETED, EventType.COMPENSATION_COMPLETED)
RESULTS_FILE_ENV = "VENTANILLA_FAULTS_RESULTS"


@dataclass
class Tally:
    scenario: str
    submitted: int = 0
    final: int = 0
    ledger_duplicates: int = 0
    effect_duplicates: int = 0
    lost: int = 0
    effects: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.ledger_duplicates == 0 and self.effect_duplicates == 0

    def line(self) -> str:
        return (
            f"{self.scenario}: submitted {self.submitted}, final {self.final}, "
            f"ledger duplicates {self.ledger_duplicates}, "
            f"duplicated effects {self.effect_duplicates} (of {self.effects}), "
            f"lost {self.lost}, {self.seconds:.0f} s"
        )

    def as_json(self) -> str:
        fields = {k: v for k, v in self.__dict__.items() if k != "problems"}
        return json.dumps({**fields, "problems": self.problems[:20]})


def read_ledger(store: LedgerStore) -> dict[UUID, list[Any]]:
    """Every case's events, in order, read from the notification log."""
    ledger = CaseLedger(catalog(), store.environment())
    try:
        cases: dict[UUID, list[Any]] = defaultdict(list)
        position = 0
        while True:
            batch = ledger.notifications_after(position, 1000)
            for notification in batch:
                event = ledger.mapper.to_domain_event(notification)
                cases[UUID(str(event.originator_id))].append(event)
                position = notification.id
            if len(batch) < 1000:
                return dict(cases)
    finally:
        ledger.close()


def read_effects(backoffices: Path) -> list[tuple[str, str, str]]:
    """(entity, idempotency key, kind) of every effect the fake back offices performed."""
    effects = []
    for db in sorted(backoffices.glob("*.sqlite")):
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT idempotency_key, kind FROM effects").fetchall()
        effects += [(db.stem, key, kind) for key, kind in rows]
    return effects


def check(
    scenario: str, store: LedgerStore, backoffices: Path, accepted: list[UUID], seconds: float
) -> Tally:
    tally = Tally(scenario, submitted=len(accepted), seconds=seconds)
    cases = read_ledger(store)
    wanted = set(accepted)
    if len(wanted) != len(accepted):
        tally.problems.append("the load accepted the same case id twice")
    for case_id in accepted:
        events = cases.get(case_id)
        if not events:
            tally.lost += 1
            tally.problems.append(f"{case_id}: accepted, not in the ledger")
            continue
        types = Counter(type(e).__name__ for e in events)
        if sum(types[t] for t in FINAL_EVENTS) == 0:
            tally.lost += 1
            tally.problems.append(f"{case_id}: not final after {len(events)} events")
        else:
            tally.final += 1
        tally.ledger_duplicates += _ledger_duplicates(case_id, events, tally.problems)
    for case_id in cases.keys() - wanted:
        tally.ledger_duplicates += 1
        tally.problems.append(f"{case_id}: in the ledger, never accepted by a channel")
    effects = read_effects(backoffices)
    tally.effects = len(effects)
    tally.effect_duplicates = _effect_problems(cases, effects, tally.problems)
    return tally


def _ledger_duplicates(case_id: UUID, events: list[Any], problems: list[str]) -> int:
    duplicates = 0
    types = Counter(type(e).__name__ for e in events)
    for once in (EventType.CASE_SUBMITTED, *FINAL_EVENTS):
        if types[once] > 1:
            duplicates += types[once] - 1
            problems.append(f"{case_id}: {types[once]} × {once}")
    if types[EventType.CASE_COMPLETED] and types[EventType.CASE_REJECTED]:
        duplicates += 1
        problems.append(f"{case_id}: both completed and rejected")
    per_step = Counter(
        (type(e).__name__, e.step_id) for e in events if type(e).__name__ in ONCE_PER_STEP
    )
    dispatched = Counter(
        (e.step_id, e.attempt)
        for e in events
        if type(e).__name__ in (EventType.STEP_DISPATCHED, EventType.COMPENSATION_DISPATCHED)
    )
    for key, count in [*per_step.items(), *dispatched.items()]:
        if count > 1:
            duplicates += count - 1
            problems.append(f"{case_id}: {count} × {key}")
    return duplicates


def _effect_problems(
    cases: dict[UUID, list[Any]], effects: list[tuple[str, str, str]], problems: list[str]
) -> int:
    """Effects compared with the steps the ledger records as done."""
    done: dict[str, tuple[UUID, str]] = {}  # operation id → (case, step)
    for case_id, events in cases.items():
        for e in events:
            if type(e).__name__ in DONE_EVENTS:
                done[str(operation_id(case_id, e.step_id))] = (case_id, e.step_id)
    count = 0
    per_case_kind: Counter[tuple[UUID, str]] = Counter()
    seen_keys: set[str] = set()
    for entity, key, kind in effects:
        if key not in done:
            count += 1
            problems.append(f"{entity} {kind} {key}: an effect no ledger step records as done")
            continue
        seen_keys.add(key)
        per_case_kind[(done[key][0], kind)] += 1
    for (case_id, kind), n in per_case_kind.items():
        if n > 1:
            count += n - 1
            problems.append(f"{case_id}: {n} × {kind}")
    return count


def record(tally: Tally, results_file: Path | None) -> None:
    """Print the scenario's line and keep it for docs/reliability.md."""
    print(tally.line())
    for problem in tally.problems[:20]:
        print(f"  {problem}")
    if results_file is not None:
        with results_file.open("a") as out:
            out.write(tally.as_json() + "\n")


class FinalWatch:
    """Follows the ledger's notification log for cases that reached a final state (cheaply:
    by event topic, without decoding events)."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store
        self.final: set[UUID] = set()
        self._position = 0

    def refresh(self) -> set[UUID]:
        ledger = CaseLedger(catalog(), self.store.environment())
        try:
            while True:
                batch = ledger.notifications_after(self._position, 5000)
                for notification in batch:
                    if notification.topic.rsplit(".", 1)[-1] in FINAL_EVENTS:
                        self.final.add(UUID(str(notification.originator_id)))
                    self._position = notification.id
                if len(batch) < 5000:
                    return self.final
        finally:
            ledger.close()
