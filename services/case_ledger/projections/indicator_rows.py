# ruff: noqa: S608  (table names are built once in __init__ from the store's own schema name)
"""Where the indicators projection keeps its rows: one per case, in the ledger's own database.

Each row holds what the management indicators need of a case: its procedure and channel, when it
was submitted and ended, how it ended and, for a rejected case, the kind of rejection and the
step that decided it. Rows and the projection's position change in one transaction, as the ANS
projection's do (sla_rows.py), so no event is counted twice or skipped.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from .sla_rows import PositionMoved


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    procedure: str
    channel: str
    submitted_at: datetime
    ended_at: datetime | None = None
    status: str = "open"  # open, completed or rejected
    rejection: str | None = None  # a RejectionKind, once rejected
    first_refused: str | None = None  # the step id of the first StepRejected
    last_failed: str | None = None  # the step id of the latest failed or overdue attempt
    shared_from: tuple[str, ...] = ()  # the steps whose data was shared with a later step


@dataclass(frozen=True)
class CaseGroup:
    """Cases alike in everything the indicators count: how many there are."""

    channel: str
    day: str  # the UTC day of submission, ISO
    procedure: str
    status: str
    rejection: str | None
    first_refused: str | None
    last_failed: str | None
    shared_from: tuple[str, ...]
    cases: int


def groups_of(rows: list[CaseRow]) -> list[CaseGroup]:
    """The groups counted row by row: the in-memory ledger's way, and the SQL's reference."""
    counts: dict[CaseGroup, int] = {}
    for r in rows:
        alike = CaseGroup(
            r.channel, r.submitted_at.date().isoformat(), r.procedure, r.status, r.rejection,
            r.first_refused, r.last_failed, r.shared_from, cases=0,
        )  # fmt: skip
        counts[alike] = counts.get(alike, 0) + 1
    return [replace(group, cases=n) for group, n in counts.items()]


def durations_of(rows: list[CaseRow]) -> dict[str, list[float]]:
    """Seconds from submission to end of each ended case, per procedure, sorted."""
    found: dict[str, list[float]] = {}
    for r in rows:
        if r.ended_at is not None:
            found.setdefault(r.procedure, []).append((r.ended_at - r.submitted_at).total_seconds())
    return {procedure: sorted(values) for procedure, values in found.items()}


class IndicatorChanges(Protocol):
    def case(self, case_id: str) -> CaseRow | None: ...

    def put_case(self, row: CaseRow) -> None: ...


class IndicatorRows(Protocol):
    def position(self) -> int: ...

    def changing(self, expected: int, new: int) -> Any:
        """A context manager yielding `IndicatorChanges`, committed with the new position only
        if the position is still `expected`; `PositionMoved` otherwise."""
        ...

    def submitted_between(self, start: datetime, end: datetime) -> list[CaseRow]: ...

    def groups(self, start: datetime, end: datetime) -> list[CaseGroup]:
        """The period's cases grouped and counted in the database."""
        ...

    def durations(self, start: datetime, end: datetime) -> dict[str, list[float]]: ...


_COLUMNS = (
    "case_id, procedure, channel, submitted_at, ended_at, status, rejection, first_refused, "
    "last_failed, shared_from"
)


def _moment(text: Any) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text))


def _row(found: Any) -> CaseRow:
    submitted = _moment(found["submitted_at"])
    assert submitted is not None  # NOT NULL in the table
    return CaseRow(
        case_id=str(found["case_id"]),
        procedure=str(found["procedure"]),
        channel=str(found["channel"]),
        submitted_at=submitted,
        ended_at=_moment(found["ended_at"]),
        status=str(found["status"]),
        rejection=found["rejection"],
        first_refused=found["first_refused"],
        last_failed=found["last_failed"],
        shared_from=tuple(str(found["shared_from"] or "").split()),
    )


class _SqlChanges:
    def __init__(self, cursor: Any, cases: str, p: str) -> None:
        self.cursor, self.cases, self.p = cursor, cases, p

    def case(self, case_id: str) -> CaseRow | None:
        self.cursor.execute(
            f"SELECT {_COLUMNS} FROM {self.cases} WHERE case_id = {self.p}", (case_id,)
        )
        found = self.cursor.fetchone()
        return None if found is None else _row(found)

    def put_case(self, row: CaseRow) -> None:
        p = self.p
        self.cursor.execute(
            f"INSERT INTO {self.cases} ({_COLUMNS}, duration_s) VALUES ({', '.join([p] * 11)}) "
            "ON CONFLICT (case_id) DO UPDATE SET ended_at = EXCLUDED.ended_at, "
            "status = EXCLUDED.status, rejection = EXCLUDED.rejection, "
            "first_refused = EXCLUDED.first_refused, last_failed = EXCLUDED.last_failed, "
            "shared_from = EXCLUDED.shared_from, duration_s = EXCLUDED.duration_s",
            (
                row.case_id,
                row.procedure,
                row.channel,
                row.submitted_at.isoformat(),
                None if row.ended_at is None else row.ended_at.isoformat(),
                row.status,
                row.rejection,
                row.first_refused,
                row.last_failed,
                " ".join(row.shared_from),
                None if row.ended_at is None else (row.ended_at - row.submitted_at).total_seconds(),
            ),
        )


class SqlIndicatorRows:
    def __init__(self, datastore: Any, prefix: str, p: str) -> None:
        self.datastore, self.p = datastore, p
        self.cases, self.positions = f"{prefix}indicator_cases", f"{prefix}indicator_position"
        index = f"{self.cases.rsplit('.', 1)[-1].strip(chr(34))}_by_submission"
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.cases} (case_id TEXT PRIMARY KEY, "
                "procedure TEXT NOT NULL, channel TEXT NOT NULL, submitted_at TEXT NOT NULL, "
                "ended_at TEXT, status TEXT NOT NULL, rejection TEXT, first_refused TEXT, "
                "last_failed TEXT, shared_from TEXT NOT NULL DEFAULT '', "
                "duration_s DOUBLE PRECISION)"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {self.cases} (submitted_at)")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.positions} "
                "(name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {self.positions} (name, position) VALUES ('indicators', 0) "
                "ON CONFLICT (name) DO NOTHING"
            )

    def position(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT position FROM {self.positions} WHERE name = 'indicators'")
            return int(cursor.fetchone()["position"])

    @contextmanager
    def changing(self, expected: int, new: int) -> Iterator[IndicatorChanges]:
        with self.datastore.transaction(commit=True) as cursor:
            p = self.p
            cursor.execute(
                f"UPDATE {self.positions} SET position = {p} WHERE name = 'indicators' "
                f"AND position = {p} RETURNING position",
                (new, expected),
            )
            if cursor.fetchone() is None:
                raise PositionMoved(expected)
            yield _SqlChanges(cursor, self.cases, p)

    def submitted_between(self, start: datetime, end: datetime) -> list[CaseRow]:
        p = self.p
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.cases} "
                f"WHERE submitted_at >= {p} AND submitted_at < {p}",
                (start.isoformat(), end.isoformat()),
            )
            return [_row(r) for r in cursor.fetchall()]

    def groups(self, start: datetime, end: datetime) -> list[CaseGroup]:
        p = self.p
        # Moments are stored as UTC ISO strings: their first ten characters are the UTC day.
        day = "SUBSTR(submitted_at, 1, 10)"
        rest = "procedure, status, rejection, first_refused, last_failed, shared_from"
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT channel, {day} AS day, {rest}, COUNT(*) AS n FROM {self.cases} "
                f"WHERE submitted_at >= {p} AND submitted_at < {p} GROUP BY channel, {day}, {rest}",
                (start.isoformat(), end.isoformat()),
            )
            return [
                CaseGroup(
                    str(r["channel"]),
                    str(r["day"]),
                    str(r["procedure"]),
                    str(r["status"]),
                    r["rejection"],
                    r["first_refused"],
                    r["last_failed"],
                    tuple(str(r["shared_from"] or "").split()),
                    int(r["n"]),
                )
                for r in cursor.fetchall()
            ]

    def durations(self, start: datetime, end: datetime) -> dict[str, list[float]]:
        p = self.p
        found: dict[str, list[float]] = {}
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT procedure, duration_s FROM {self.cases} "
                f"WHERE submitted_at >= {p} AND submitted_at < {p} AND duration_s IS NOT NULL "
                "ORDER BY procedure, duration_s",
                (start.isoformat(), end.isoformat()),
            )
            for r in cursor.fetchall():
                found.setdefault(str(r["procedure"]), []).append(float(r["duration_s"]))
        return found


class _MemoryChanges:
    def __init__(self, rows: "MemoryIndicatorRows") -> None:
        self.rows = rows

    def case(self, case_id: str) -> CaseRow | None:
        return self.rows.cases.get(case_id)

    def put_case(self, row: CaseRow) -> None:
        self.rows.cases[row.case_id] = replace(row)


class MemoryIndicatorRows:
    """For the in-memory ledger (`memory:`)."""

    def __init__(self) -> None:
        self.at = 0
        self.cases: dict[str, CaseRow] = {}

    def position(self) -> int:
        return self.at

    @contextmanager
    def changing(self, expected: int, new: int) -> Iterator[IndicatorChanges]:
        if self.at != expected:
            raise PositionMoved(expected)
        yield _MemoryChanges(self)
        self.at = new

    def submitted_between(self, start: datetime, end: datetime) -> list[CaseRow]:
        return [r for r in self.cases.values() if start <= r.submitted_at < end]

    def groups(self, start: datetime, end: datetime) -> list[CaseGroup]:
        return groups_of(self.submitted_between(start, end))

    def durations(self, start: datetime, end: datetime) -> dict[str, list[float]]:
        return durations_of(self.submitted_between(start, end))


def indicator_rows_for(recorder: Any) -> IndicatorRows:
    """The projection's tables in the same database as the recorder's events."""
    datastore: Any = getattr(recorder, "datastore", None)
    module = type(datastore).__module__
    if module == "eventsourcing.sqlite":
        return SqlIndicatorRows(datastore, "", "?")
    if module == "eventsourcing.postgres":
        schema = '"' + datastore.schema.replace('"', '""') + '".caseledger_'
        return SqlIndicatorRows(datastore, schema, "%s")
    return MemoryIndicatorRows()
