"""What a fake back office has done, kept in SQLite so it survives an adapter crash.

Each effect (a fee charged, a card issued) is stored once per idempotency key, as a real
back office with idempotency keys would: asking twice returns the first answer.
"""

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class EffectLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path  # None: in memory, for tests
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path or ":memory:"), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A commit survives the adapter's crash without an fsync of its own (WAL), and this fake
        # back office promises no more than that: an fsync per effect held the adapter's event
        # loop for a third of its time under load.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS effects ("
            " idempotency_key TEXT PRIMARY KEY, kind TEXT NOT NULL, result TEXT NOT NULL)"
        )
        self._db.commit()
        self._lock = threading.Lock()

    def once(self, key: str, kind: str, perform: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Perform the effect unless this key already did; either way return its result."""
        with self._lock:
            row = self._db.execute(
                "SELECT result FROM effects WHERE idempotency_key = ?", (key,)
            ).fetchone()
            if row is not None:
                return dict(json.loads(row[0]))
            result = perform()
            with self._db:
                self._db.execute(
                    "INSERT INTO effects VALUES (?, ?, ?)", (key, kind, json.dumps(result))
                )
            return result

    def get(self, key: str) -> dict[str, Any] | None:
        """The result of the effect done under this key, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT result FROM effects WHERE idempotency_key = ?", (key,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def count(self, kind: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM effects WHERE kind = ?", (kind,)
            ).fetchone()
            return int(row[0])
