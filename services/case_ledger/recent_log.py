"""The tail of the notification log as this process saved it, for the tasks that follow the log.

The outbox relay, the status views and the access projection each read the log after their own
position, once per round, and decode the events they need; under load that is three selects and
as many decryptions of what the writer saved a millisecond before. The writer keeps here each
notification it saved, with its domain event in clear, so a follower whose next entries are held
reads them from memory.

Memory answers only for a run of consecutive ids that starts right after the follower's position:
this process saved and committed each of them, so nothing else can sit in between. Any other case
(a restart, a gap left by a rolled-back sequence value on PostgreSQL, another writer on the same
store, an entry already dropped to keep the size bounded) answers None, and the follower reads
the store as before: the store stays the record, memory only spares the read.
"""

import threading
from collections import OrderedDict
from typing import Any

from eventsourcing.persistence import Notification

# Several seconds of saves under full load (a duplicado-dni case is 7 entries): the followers stay
# within a round or two of the writer, so entries older than that are read from the store (as
# after a restart) rather than kept.
KEPT = 20_000


class RecentLog:
    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._entries: OrderedDict[int, tuple[Notification, Any]] = OrderedDict()
        # The writer adds and the reader thread reads: one at a time.
        self._lock = threading.Lock()

    def add(self, notification: Notification, event: Any) -> None:
        """After the commit: an entry this process saved, with its domain event."""
        with self._lock:
            self._entries[notification.id] = (notification, event)
            while len(self._entries) > self.kept:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry (after an erasure: what memory holds is in clear)."""
        with self._lock:
            self._entries.clear()

    def after(self, position: int, limit: int) -> list[Notification] | None:
        """The entries right after `position`, up to `limit`, when memory holds the next one;
        None when the store must answer."""
        with self._lock:
            found: list[Notification] = []
            next_id = position + 1
            while len(found) < limit:
                entry = self._entries.get(next_id)
                if entry is None:
                    break
                found.append(entry[0])
                next_id += 1
        return found or None

    def event(self, notification_id: int) -> Any | None:
        """The domain event saved under this id, when still held."""
        with self._lock:
            entry = self._entries.get(notification_id)
        return None if entry is None else entry[1]
