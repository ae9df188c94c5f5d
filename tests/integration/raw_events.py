# ruff: noqa: S608  (table and column names are the two constants set in __init__)
"""Direct access to the ledger's events table, as someone tampering with the database would have.

SQLite keeps the notification position in the rowid, PostgreSQL in `notification_id`.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse
from uuid import UUID

import psycopg

from services.case_ledger.store import LedgerStore


@dataclass(frozen=True)
class Row:
    position: int
    version: int
    topic: str
    state: bytes


class RawEvents:
    def __init__(self, store: LedgerStore) -> None:
        parsed = urlparse(store.url)
        self.sqlite = parsed.scheme == "sqlite"
        if self.sqlite:
            self.target = unquote(parsed.path)
            self.position = "rowid"
            self.table = "stored_events"
        else:
            query = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p)
            self.target = parsed._replace(query="").geturl()
            self.schema = query["schema"]
            self.position = "notification_id"
            self.table = "caseledger_events"  # eventsourcing names it after the application

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self.sqlite:
            conn = sqlite3.connect(self.target)
            try:
                yield conn
                conn.commit()
            finally:
                conn.close()
        else:
            with psycopg.connect(self.target, autocommit=True) as pg:
                pg.execute(f'SET search_path TO "{self.schema}"')
                yield pg

    def _run(self, sql: str, *params: Any) -> list[Any]:
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        with self._cursor() as c:
            cur = c.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

    def rows(self, case_id: object) -> list[Row]:
        found = self._run(
            f"SELECT {self.position}, originator_version, topic, state FROM {self.table} "
            "WHERE originator_id = ? ORDER BY originator_version",
            self._id(case_id),
        )
        return [Row(p, v, t, bytes(s)) for p, v, t, s in found]

    def set_state(self, case_id: object, version: int, state: bytes) -> None:
        self._run(
            f"UPDATE {self.table} SET state = ? WHERE originator_id = ? AND originator_version = ?",
            state,
            self._id(case_id),
            version,
        )

    def set_row(self, case_id: object, version: int, topic: str, state: bytes) -> None:
        self._run(
            f"UPDATE {self.table} SET topic = ?, state = ? "
            "WHERE originator_id = ? AND originator_version = ?",
            topic,
            state,
            self._id(case_id),
            version,
        )

    def delete(self, case_id: object, version: int) -> None:
        self._run(
            f"DELETE FROM {self.table} WHERE originator_id = ? AND originator_version = ?",
            self._id(case_id),
            version,
        )

    def delete_after(self, position: int) -> None:
        self._run(f"DELETE FROM {self.table} WHERE {self.position} > ?", position)

    def shift_up(self, case_id: object, from_version: int) -> None:
        """Renumber events from `from_version` on one version later, keeping their positions."""
        for row in reversed(self.rows(case_id)):
            if row.version >= from_version:
                self._run(
                    f"UPDATE {self.table} SET originator_version = ? "
                    "WHERE originator_id = ? AND originator_version = ?",
                    row.version + 1,
                    self._id(case_id),
                    row.version,
                )

    def insert(self, case_id: object, version: int, topic: str, state: bytes) -> None:
        self._run(
            f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            self._id(case_id),
            version,
            topic,
            state,
        )

    def every_table(self) -> dict[str, bytes]:
        """Every row of every table of the ledger's database, as one blob per table."""
        if self.sqlite:
            names = [n for (n,) in self._run("SELECT name FROM sqlite_master WHERE type='table'")]
        else:
            names = [
                n
                for (n,) in self._run(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                    self.schema,
                )
            ]
        return {
            name: b"\n".join(map(_row_bytes, self._run(f'SELECT * FROM "{name}"')))
            for name in names
        }

    def _id(self, case_id: object) -> object:
        # eventsourcing keeps SQLite ids as bare hex, PostgreSQL ids as uuid.
        return UUID(str(case_id)).hex if self.sqlite else case_id


def _row_bytes(row: tuple[Any, ...]) -> bytes:
    return b"\t".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
    )
