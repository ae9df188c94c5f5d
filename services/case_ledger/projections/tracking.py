"""How a projection follows the ledger's notification log: from its own tracked position, in
batches, each batch's changes committed with the position it reached (one transaction), so no
event is counted twice or skipped, whoever catches the projection up."""

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import Any, Protocol


class PositionMoved(Exception):
    """Another reader caught the projection up first: this catch-up's changes are dropped."""


class Tracked(Protocol):
    def position(self) -> int: ...

    def changing(self, expected: int, new: int) -> AbstractContextManager[Any]:
        """The batch's changes, committed with the new position only if the position is still
        `expected`; `PositionMoved` otherwise."""
        ...


def catch_up(
    ledger: Any,
    rows: Tracked,
    topics: Collection[str],
    apply: Callable[[Any, Any], None],
    batch: int = 5000,
) -> int:
    """Apply (`apply(changes, event)`) the events of the given topics that the ledger recorded
    after the projection's position; returns how many notifications were read."""
    applied = 0
    while True:
        position = rows.position()
        notifications = ledger.notifications_after(position, batch)
        if not notifications:
            return applied
        try:
            with rows.changing(position, notifications[-1].id) as changes:
                for notification in notifications:
                    if notification.topic.rsplit(".", 1)[-1] in topics:
                        apply(changes, ledger.mapper.to_domain_event(notification))
        except PositionMoved:
            continue  # another reader applied these: read on from where it got
        applied += len(notifications)
        if len(notifications) < batch:
            return applied


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
