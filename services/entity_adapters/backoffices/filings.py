"""Filings a fake back office took and decides later, kept in SQLite beside its effects.

Each filing is kept once per idempotency key with the time it will be decided, and the
reference of the attempt to answer (the latest one that asked: a step asked again after its
deadline is answered on its new attempt). A filing stays due until its answer was sent, so an
adapter that dies before sending sends it after its restart.
"""

import sqlite3
import threading
from datetime import datetime
from pathlib import Path


class PendingFilings:
    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path or ":memory:"), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS filings ("
            " idempotency_key TEXT PRIMARY KEY, reference TEXT NOT NULL,"
            " decide_at TEXT NOT NULL, answered INTEGER NOT NULL DEFAULT 0)"
        )
        self._db.commit()
        self._lock = threading.Lock()

    def take(self, key: str, reference: str, decide_at: datetime) -> datetime:
        """Keep the filing (the first time sets when it is decided); when it will be decided."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO filings (idempotency_key, reference, decide_at) VALUES (?, ?, ?)"
                " ON CONFLICT (idempotency_key) DO UPDATE SET reference = excluded.reference",
                (key, reference, decide_at.isoformat()),
            )
            row = self._db.execute(
                "SELECT decide_at FROM filings WHERE idempotency_key = ?", (key,)
            ).fetchone()
        return datetime.fromisoformat(row[0])

    def due(self, now: datetime, limit: int = 100) -> list[tuple[str, str]]:
        """(key, reference) of the filings decided by `now` whose answer was not sent yet."""
        with self._lock:
            rows = self._db.execute(
                "SELECT idempotency_key, reference FROM filings"
                " WHERE answered = 0 AND decide_at <= ? ORDER BY decide_at LIMIT ?",
                (now.isoformat(), limit),
            ).fetchall()
        return [(str(key), str(reference)) for key, reference in rows]

    def answered(self, key: str) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE filings SET answered = 1 WHERE idempotency_key = ?", (key,))
