# ruff: noqa: S608  (the table name is built once in __init__ from the store's own schema name)
"""Where citizens' data keys are kept: wrapped, one row per citizen, in the ledger's database.

Why a table in the ledger's database rather than a file beside the master key: it then works
wherever the ledger works (a SQLite file on one machine, PostgreSQL shared by several ledger
processes and the CLI), every process sees a new key or an erasure at once, and two processes
creating the same citizen's key, or one erasing while another writes, are settled by the
database (a unique pseudonym, atomic updates) instead of file locks. The rows are worthless
without the master key, which never enters the database: a wrapped key opens only with it, and
a pseudonym names no DNI without it.

A row: `key_id` (random; what encrypted values quote), `pseudonym` (keyed HMAC of the DNI, to
find the key when writing), the wrapped key, the id of the master key that wrapped it, and when
it was created and erased. Erasing clears the pseudonym and the wrapped key: stored events keep
quoting a key id that leads neither to a key nor to a DNI any more.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    wrapped: bytes | None  # None once erased
    master_key_id: str


class KeyStore(Protocol):
    def find(self, pseudonym: str) -> KeyRow | None: ...

    def add(self, pseudonym: str, row: KeyRow) -> KeyRow:
        """Store a new key; if the citizen got one meanwhile, that one is returned instead."""
        ...

    def get(self, key_id: str) -> KeyRow | None: ...

    def any_row(self) -> KeyRow | None:
        """One key of the store, to check the master key against; None when there is none."""
        ...

    def erase(self, pseudonym: str) -> str | None:
        """Destroy the citizen's key; its id, or None when there was none."""
        ...

    def rows(self) -> list[KeyRow]:
        """Every key, erased ones included (for a master key rotation)."""
        ...

    def rewrap(self, rows: list[KeyRow]) -> None:
        """Store these rows' wrapped keys and master key ids, all at once or not at all."""
        ...


class SqlKeyStore:
    def __init__(
        self, datastore: Any, table: str, placeholder: str, blob: str, *, sqlite: bool
    ) -> None:
        self.datastore = datastore
        self.table = table
        self.p = placeholder
        self.sqlite = sqlite
        self._select = f"SELECT key_id, wrapped_key, master_key_id FROM {table}"
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                "key_id TEXT PRIMARY KEY, pseudonym TEXT UNIQUE, "
                f"wrapped_key {blob}, master_key_id TEXT NOT NULL, "
                "created_at TEXT NOT NULL, erased_at TEXT)"
            )

    def find(self, pseudonym: str) -> KeyRow | None:
        return self._one(f"{self._select} WHERE pseudonym = {self.p}", pseudonym)

    def get(self, key_id: str) -> KeyRow | None:
        return self._one(f"{self._select} WHERE key_id = {self.p}", key_id)

    def any_row(self) -> KeyRow | None:
        return self._one(f"{self._select} ORDER BY created_at LIMIT 1")

    def add(self, pseudonym: str, row: KeyRow) -> KeyRow:
        p = self.p
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} "
                "(key_id, pseudonym, wrapped_key, master_key_id, created_at) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (pseudonym) DO NOTHING",
                (row.key_id, pseudonym, row.wrapped, row.master_key_id, _now()),
            )
        stored = self.find(pseudonym)
        assert stored is not None
        return stored

    def erase(self, pseudonym: str) -> str | None:
        with self.datastore.transaction(commit=True) as cursor:
            if self.sqlite:
                # Zero the freed bytes, so the wrapped key is not left in the file's free pages.
                cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute(
                f"UPDATE {self.table} SET pseudonym = NULL, wrapped_key = NULL, "
                f"erased_at = {self.p} WHERE pseudonym = {self.p} RETURNING key_id",
                (_now(), pseudonym),
            )
            found = cursor.fetchone()
        return None if found is None else str(found["key_id"])

    def rows(self) -> list[KeyRow]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"{self._select} ORDER BY created_at, key_id")
            return [_row(found) for found in cursor.fetchall()]

    def rewrap(self, rows: list[KeyRow]) -> None:
        p = self.p
        with self.datastore.transaction(commit=True) as cursor:
            for row in rows:
                cursor.execute(
                    f"UPDATE {self.table} SET wrapped_key = {p}, master_key_id = {p} "
                    f"WHERE key_id = {p}",
                    (row.wrapped, row.master_key_id, row.key_id),
                )

    def _one(self, sql: str, *params: Any) -> KeyRow | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchone()
        return None if found is None else _row(found)


def _row(found: Any) -> KeyRow:
    wrapped = found["wrapped_key"]
    return KeyRow(
        str(found["key_id"]),
        None if wrapped is None else bytes(wrapped),
        str(found["master_key_id"]),
    )


class MemoryKeyStore:
    """For the in-memory ledger (`memory:`), which forgets everything when it stops anyway."""

    def __init__(self) -> None:
        self.keys: dict[str, KeyRow] = {}
        self.pseudonyms: dict[str, str] = {}

    def find(self, pseudonym: str) -> KeyRow | None:
        key_id = self.pseudonyms.get(pseudonym)
        return None if key_id is None else self.keys[key_id]

    def get(self, key_id: str) -> KeyRow | None:
        return self.keys.get(key_id)

    def any_row(self) -> KeyRow | None:
        return next(iter(self.keys.values()), None)

    def add(self, pseudonym: str, row: KeyRow) -> KeyRow:
        if pseudonym not in self.pseudonyms:
            self.keys[row.key_id] = row
            self.pseudonyms[pseudonym] = row.key_id
        return self.keys[self.pseudonyms[pseudonym]]

    def erase(self, pseudonym: str) -> str | None:
        key_id = self.pseudonyms.pop(pseudonym, None)
        if key_id is not None:
            row = self.keys[key_id]
            self.keys[key_id] = KeyRow(key_id, None, row.master_key_id)
        return key_id

    def rows(self) -> list[KeyRow]:
        return list(self.keys.values())

    def rewrap(self, rows: list[KeyRow]) -> None:
        for row in rows:
            self.keys[row.key_id] = row


def key_store_for(recorder: Any) -> KeyStore:
    """The key table in the same database as the recorder's events."""
    # By module name: importing eventsourcing.postgres (psycopg) for a SQLite ledger would slow
    # the start of every process that opens the ledger.
    datastore: Any = getattr(recorder, "datastore", None)
    module = type(datastore).__module__
    if module == "eventsourcing.sqlite":
        return SqlKeyStore(datastore, "citizen_keys", "?", "BLOB", sqlite=True)
    if module == "eventsourcing.postgres":
        schema = '"' + datastore.schema.replace('"', '""') + '"'
        return SqlKeyStore(
            datastore, f"{schema}.caseledger_citizen_keys", "%s", "BYTEA", sqlite=False
        )
    return MemoryKeyStore()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
