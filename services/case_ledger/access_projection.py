# ruff: noqa: S608  (table names are built once in __init__ from the store's own schema name)
"""The citizen's access log as a projection: tables kept from the ledger's notification log.

`case_citizens` says which citizens take part in which case (from `CaseSubmitted`); `entries`
holds each DL 1211 exchange (`DataShared`) once per citizen of its case. A tracking row holds the
last ledger position read; the rows of a batch and the new position commit in one transaction,
so a crash loses or repeats nothing. A query reads the few events recorded since (usually none)
and then only the citizen's own rows, by index: O(that citizen's records), whatever the size of
the ledger.

No personal data in clear: citizens are named by their data key's id (random, see
`personal.keystore`), never by DNI, and an entry holds entities, steps, field names, purpose
and legal basis only. Erasing a citizen unlinks their key id from their pseudonym, so their
rows lead to no one; they are also deleted at once (`forget`).
"""

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from schemas.catalog import citizen_inputs
from schemas.event_types import EventType
from schemas.views import DataAccess

_BATCH = 1000


@dataclass(frozen=True)
class CaseCitizen:
    case_id: str
    citizen: str  # the citizen's data key id
    procedure: str
    role: str


@dataclass(frozen=True)
class Entry:
    citizen: str
    position: int
    role: str
    body: str  # DataAccess as JSON


class AccessTable(Protocol):
    def position(self) -> int: ...

    def citizens_of(self, case_ids: Iterable[str]) -> list[CaseCitizen]: ...

    def record(self, citizens: list[CaseCitizen], entries: list[Entry], position: int) -> None:
        """Add rows and move the tracked position, in one transaction."""
        ...

    def entries(self, citizen: str) -> list[str]: ...

    def forget(self, citizen: str) -> None: ...


class SqlAccessTable:
    def __init__(self, datastore: Any, prefix: str, placeholder: str) -> None:
        self.datastore = datastore
        self.p = placeholder
        self.cases, self.rows, self.tracking = (
            f"{prefix}access_case_citizens",
            f"{prefix}access_entries",
            f"{prefix}access_tracking",
        )
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.cases} (case_id TEXT NOT NULL, "
                "citizen TEXT NOT NULL, procedure TEXT NOT NULL, role TEXT NOT NULL, "
                "PRIMARY KEY (case_id, citizen, role))"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.rows} (citizen TEXT NOT NULL, "
                "position BIGINT NOT NULL, role TEXT NOT NULL, body TEXT NOT NULL, "
                "PRIMARY KEY (citizen, position, role))"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tracking} "
                "(id INTEGER PRIMARY KEY, position BIGINT NOT NULL)"
            )

    def position(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT position FROM {self.tracking} WHERE id = 1")
            found = cursor.fetchone()
        return 0 if found is None else int(found["position"])

    def citizens_of(self, case_ids: Iterable[str]) -> list[CaseCitizen]:
        ids = sorted(set(case_ids))
        if not ids:
            return []
        marks = ", ".join([self.p] * len(ids))
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT case_id, citizen, procedure, role FROM {self.cases} "
                f"WHERE case_id IN ({marks})",
                ids,
            )
            return [
                CaseCitizen(r["case_id"], r["citizen"], r["procedure"], r["role"])
                for r in cursor.fetchall()
            ]

    def record(self, citizens: list[CaseCitizen], entries: list[Entry], position: int) -> None:
        p = self.p
        with self.datastore.transaction(commit=True) as cursor:
            for c in citizens:
                cursor.execute(
                    f"INSERT INTO {self.cases} VALUES ({p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING",
                    (c.case_id, c.citizen, c.procedure, c.role),
                )
            for e in entries:
                cursor.execute(
                    f"INSERT INTO {self.rows} VALUES ({p}, {p}, {p}, {p}) ON CONFLICT DO NOTHING",
                    (e.citizen, e.position, e.role, e.body),
                )
            cursor.execute(
                f"INSERT INTO {self.tracking} (id, position) VALUES (1, {p}) "
                "ON CONFLICT (id) DO UPDATE SET position = excluded.position",
                (position,),
            )

    def entries(self, citizen: str) -> list[str]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT body FROM {self.rows} WHERE citizen = {self.p} ORDER BY position, role",
                (citizen,),
            )
            return [str(r["body"]) for r in cursor.fetchall()]

    def forget(self, citizen: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {self.rows} WHERE citizen = {self.p}", (citizen,))
            cursor.execute(f"DELETE FROM {self.cases} WHERE citizen = {self.p}", (citizen,))


class MemoryAccessTable:
    """For the in-memory ledger (`memory:`)."""

    def __init__(self) -> None:
        self.at = 0
        self.cases: dict[str, list[CaseCitizen]] = {}
        self.rows: dict[str, dict[tuple[int, str], str]] = {}

    def position(self) -> int:
        return self.at

    def citizens_of(self, case_ids: Iterable[str]) -> list[CaseCitizen]:
        return [c for case_id in set(case_ids) for c in self.cases.get(case_id, [])]

    def record(self, citizens: list[CaseCitizen], entries: list[Entry], position: int) -> None:
        for c in citizens:
            if c not in self.cases.setdefault(c.case_id, []):
                self.cases[c.case_id].append(c)
        for e in entries:
            self.rows.setdefault(e.citizen, {})[(e.position, e.role)] = e.body
        self.at = position

    def entries(self, citizen: str) -> list[str]:
        return [body for _, body in sorted(self.rows.get(citizen, {}).items())]

    def forget(self, citizen: str) -> None:
        self.rows.pop(citizen, None)
        for case_id, found in list(self.cases.items()):
            self.cases[case_id] = [c for c in found if c.citizen != citizen]


def access_table_for(recorder: Any) -> AccessTable:
    """The projection's tables in the same database as the recorder's events."""
    datastore: Any = getattr(recorder, "datastore", None)
    module = type(datastore).__module__
    if module == "eventsourcing.sqlite":
        return SqlAccessTable(datastore, "", "?")
    if module == "eventsourcing.postgres":
        schema = '"' + datastore.schema.replace('"', '""') + '"'
        return SqlAccessTable(datastore, f"{schema}.caseledger_", "%s")
    return MemoryAccessTable()


class AccessProjection:
    """Keeps the tables up to date with the ledger and answers a citizen's access log."""

    def __init__(self, ledger: Any, table: AccessTable) -> None:
        self.ledger = ledger  # a CaseLedger (not imported: it imports this module's callers)
        self.table = table
        self._lock = threading.Lock()  # one catch-up at a time in a process

    def catch_up(self, limit: int | None = None) -> int:
        """Read what the ledger recorded since the tracked position (at most about `limit`
        events); how many events were read."""
        read = 0
        with self._lock:
            position = self.table.position()
            while limit is None or read < limit:
                notifications = self.ledger.notifications_after(position, _BATCH)
                if not notifications:
                    return read
                citizens, entries = self._project(notifications)
                position = notifications[-1].id
                self.table.record(citizens, entries, position)
                read += len(notifications)
        return read

    def access_log(self, document_number: str) -> list[DataAccess]:
        self.catch_up()
        citizen = self.ledger.citizen_keys.key_id_of(document_number)
        if citizen is None:
            return []  # no data key: never seen, or erased
        return [DataAccess.model_validate_json(body) for body in self.table.entries(citizen)]

    def forget(self, key_id: str) -> None:
        self.table.forget(key_id)

    def _project(self, notifications: list[Any]) -> tuple[list[CaseCitizen], list[Entry]]:
        citizens: list[CaseCitizen] = []
        shared: list[tuple[int, Any]] = []
        for notification in notifications:
            kind = notification.topic.rsplit(".", 1)[-1]
            if kind == EventType.CASE_SUBMITTED:
                citizens += self._citizens(self.ledger.recorded_event(notification))
            elif kind == EventType.DATA_SHARED:
                shared.append((notification.id, self.ledger.recorded_event(notification)))
        if not shared:
            return citizens, []
        case_ids = {str(event.originator_id) for _, event in shared}
        known: dict[str, list[CaseCitizen]] = {}
        for c in [*self.table.citizens_of(case_ids), *citizens]:
            known.setdefault(c.case_id, []).append(c)
        entries = [
            Entry(c.citizen, position, c.role, _entry(event, c).model_dump_json())
            for position, event in shared
            for c in known.get(str(event.originator_id), [])
        ]
        return citizens, entries

    def _citizens(self, submitted: Any) -> list[CaseCitizen]:
        proc = self.ledger.catalog.get(submitted.procedure)
        names = citizen_inputs(proc) if proc is not None else frozenset()
        found = [("applicant", submitted.citizen.get("document_number"))]
        found += [(name, submitted.inputs.get(name)) for name in sorted(names)]
        case_id = str(submitted.originator_id)
        out = []
        for role, dni in found:
            key_id = self.ledger.citizen_keys.key_id_of(dni) if isinstance(dni, str) else None
            if key_id is not None:  # None: erased before this was read
                out.append(CaseCitizen(case_id, key_id, submitted.procedure, role))
        return out


def _entry(event: Any, citizen: CaseCitizen) -> DataAccess:
    return DataAccess(
        case_id=UUID(citizen.case_id),
        procedure=citizen.procedure,
        role=citizen.role,
        occurred_at=event.timestamp,
        from_entity=event.from_entity,
        from_step=event.from_step,
        to_entity=event.to_entity,
        to_step=event.to_step,
        fields=list(event.fields),
        purpose=event.purpose,
        legal_basis=event.legal_basis,
    )
