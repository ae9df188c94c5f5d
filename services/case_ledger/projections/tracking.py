"""How a projection follows the ledger's notification log: from its own tracked position, in
batches, each batch's changes committed with the position it reached (one transaction), so no
event is counted twice or skipped, whoever catches the projection up."""

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol


class PositionMoved(Exception):
    """Another reader caught the projection up first: this catch-up's changes are dropped."""


class Tracked(Protocol):
    def position(self) -> int: ...

    def changing(self, expected: int, new: int) -> AbstractContextManager[Any]:
        """The batch's changes, committed with the new position only if the position is still
        `expected`; `PositionMoved` otherwise."""
        ...


@dataclass(frozen=True)
class Projection:
    """A projection's rows, the topics it reads and how it applies one event to its changes."""

    rows: Tracked
    topics: Collection[str]
    apply: Callable[[Any, Any], None]


def catch_up(ledger: Any, *projections: Projection, batch: int = 5000) -> int:
    """Apply to each projection the events of its topics that the ledger recorded after its
    position, in one pass over the notifications (each decoded once); returns how many
    notifications were read."""
    read = 0
    while True:
        positions = [p.rows.position() for p in projections]
        notifications = ledger.notifications_after(min(positions), batch)
        if not notifications:
            return read
        last, moved = notifications[-1].id, False
        events: dict[int, Any] = {}
        for projection, at in zip(projections, positions, strict=True):
            if at >= last:
                continue
            try:
                with projection.rows.changing(at, last) as changes:
                    for n in notifications:
                        if n.id > at and n.topic.rsplit(".", 1)[-1] in projection.topics:
                            if n.id not in events:
                                events[n.id] = ledger.mapper.to_domain_event(n)
                            projection.apply(changes, events[n.id])
            except PositionMoved:
                moved = True  # another reader applied these: read on from where it got
        if moved:
            continue
        read += len(notifications)
        if len(notifications) < batch:
            return read


def schema_is_current(cursor: Any, versions: str, name: str, version: int, p: str) -> bool:
    """Whether the projection's tables are of this schema version; if not (another version, or
    none recorded: tables older than versions), records this one and answers False, and the
    caller drops its tables and starts again from position 0: the projection is rebuilt from
    the ledger by the next catch-up."""
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {versions} (name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    cursor.execute(f"SELECT version FROM {versions} WHERE name = {p}", (name,))  # noqa: S608
    found = cursor.fetchone()
    if found is not None and int(found["version"]) == version:
        return True
    cursor.execute(
        f"INSERT INTO {versions} (name, version) VALUES ({p}, {p}) "  # noqa: S608
        "ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version",
        (name, version),
    )
    return False
