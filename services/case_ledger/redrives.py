"""The record of dead-letter redrives: one row per letter, in the ledger's own database.

A letter is redriven at most once: the row is claimed first (a primary key on the letter id),
and only the caller that claimed it publishes. A second redrive of the same letter, from any
operator at any time, finds the row and does nothing.
"""

from datetime import datetime
from typing import Any, Protocol

from schemas.dead_letters import Redrive


class Redrives(Protocol):
    def claim(self, letter_id: int, redrive: Redrive) -> bool:
        """Record the redrive; False when the letter was redriven already."""
        ...

    def release(self, letter_id: int) -> None:
        """Forget a claim whose publish failed, so it may be tried again."""
        ...

    def of(self, letter_ids: list[int]) -> dict[int, Redrive]: ...


class SqlRedrives:
    def __init__(self, datastore: Any, table: str, p: str) -> None:
        self.datastore, self.table, self.p = datastore, table, p
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (letter_id INTEGER PRIMARY KEY, "
                "at TEXT NOT NULL, operator TEXT NOT NULL, reason TEXT NOT NULL)"
            )

    def claim(self, letter_id: int, redrive: Redrive) -> bool:
        p = self.p
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (letter_id, at, operator, reason) "  # noqa: S608
                f"VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (letter_id) DO NOTHING "
                "RETURNING letter_id",
                (letter_id, redrive.at.isoformat(), redrive.operator, redrive.reason),
            )
            return cursor.fetchone() is not None

    def release(self, letter_id: int) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"DELETE FROM {self.table} WHERE letter_id = {self.p}",  # noqa: S608
                (letter_id,),
            )

    def of(self, letter_ids: list[int]) -> dict[int, Redrive]:
        if not letter_ids:
            return {}
        marks = ", ".join([self.p] * len(letter_ids))
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT letter_id, at, operator, reason FROM {self.table} "  # noqa: S608
                f"WHERE letter_id IN ({marks})",
                letter_ids,
            )
            return {
                int(r["letter_id"]): Redrive(
                    at=datetime.fromisoformat(r["at"]), operator=r["operator"], reason=r["reason"]
                )
                for r in cursor.fetchall()
            }


class MemoryRedrives:
    def __init__(self) -> None:
        self.rows: dict[int, Redrive] = {}

    def claim(self, letter_id: int, redrive: Redrive) -> bool:
        if letter_id in self.rows:
            return False
        self.rows[letter_id] = redrive
        return True

    def release(self, letter_id: int) -> None:
        self.rows.pop(letter_id, None)

    def of(self, letter_ids: list[int]) -> dict[int, Redrive]:
        return {i: self.rows[i] for i in letter_ids if i in self.rows}


def redrives_for(recorder: Any) -> Redrives:
    datastore: Any = getattr(recorder, "datastore", None)
    module = type(datastore).__module__
    if module == "eventsourcing.sqlite":
        return SqlRedrives(datastore, "dead_letter_redrives", "?")
    if module == "eventsourcing.postgres":
        schema = '"' + datastore.schema.replace('"', '""') + '".caseledger_'
        return SqlRedrives(datastore, schema + "dead_letter_redrives", "%s")
    return MemoryRedrives()
