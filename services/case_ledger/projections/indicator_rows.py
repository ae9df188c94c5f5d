# ruff: noqa: S608  (table names are built once in __init__ from the store's own schema name)
"""Where the indicators projection keeps its rows: one per case, in the ledger's own database.

Each row holds what the management indicators need of a case: its procedure and channel, when it
was submitted and ended, how it ended and, for a rejected case, the kind of rejection and the
step that decided it. Beside them, per-hour aggregates (hours.py): the cases submitted in one
UTC hour that are alike in everything the indicators count, with their duration bucket
(histogram.py), how many and their seconds summed. Rows, aggregates and the projection's position
change in one transaction, as the ANS projection's do (sla_rows.py), so no event is counted
twice or skipped.

Over 300 lines because, like sla_rows.py, it is one row store written for SQL (SQLite and
PostgreSQL) and in memory, with the queries the indicators need, kept together so the two stay
the same.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from .histogram import NO_BUCKET, bucket_of
from .hours import hour_key, split
from .tracking import PositionMoved, schema_is_current

SCHEMA_VERSION = 2  # 2: per-hour aggregates


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


@dataclass(frozen=True)
class CaseHour:
    """The cases submitted in one UTC hour that are alike, with their duration bucket."""

    hour: str  # 'YYYY-MM-DDTHH', UTC
    alike: CaseGroup  # its day and counts unused
    bucket: int  # NO_BUCKET while the case is open
    cases: int
    total_s: float  # their durations summed (0 while open)


@dataclass
class Durations:
    """A procedure's ended cases of a period: how many, their seconds summed, their buckets."""

    cases: int = 0
    total_s: float = 0.0
    buckets: dict[int, int] = field(default_factory=dict)


def case_hour(r: CaseRow, sign: int = 1) -> CaseHour:
    """What one case adds to its hour's aggregates (sign -1: what taking it out removes)."""
    alike = CaseGroup(
        r.channel, "", r.procedure, r.status, r.rejection,
        r.first_refused, r.last_failed, r.shared_from, cases=0,
    )  # fmt: skip
    if r.ended_at is None:
        return CaseHour(hour_key(r.submitted_at), alike, NO_BUCKET, sign, 0.0)
    taken = (r.ended_at - r.submitted_at).total_seconds()
    return CaseHour(hour_key(r.submitted_at), alike, bucket_of(taken), sign, sign * taken)


def summed(hours: Iterable[CaseHour]) -> list[CaseHour]:
    found: dict[tuple[str, CaseGroup, int], CaseHour] = {}
    for h in hours:
        key = (h.hour, h.alike, h.bucket)
        had = found.get(key)
        found[key] = (
            h
            if had is None
            else replace(had, cases=had.cases + h.cases, total_s=had.total_s + h.total_s)
        )
    return [h for h in found.values() if h.cases != 0]


def groups_of(hours: Iterable[CaseHour]) -> list[CaseGroup]:
    """The period's groups: its aggregates summed per UTC day."""
    counts: dict[CaseGroup, int] = {}
    for h in hours:
        alike = replace(h.alike, day=h.hour[:10])
        counts[alike] = counts.get(alike, 0) + h.cases
    return [replace(group, cases=n) for group, n in counts.items() if n != 0]


def durations_of(hours: Iterable[CaseHour]) -> dict[str, Durations]:
    """The period's ended cases per procedure."""
    found: dict[str, Durations] = {}
    for h in hours:
        if h.bucket == NO_BUCKET:
            continue
        d = found.setdefault(h.alike.procedure, Durations())
        d.cases += h.cases
        d.total_s += h.total_s
        d.buckets[h.bucket] = d.buckets.get(h.bucket, 0) + h.cases
    return {procedure: d for procedure, d in found.items() if d.cases > 0}


class IndicatorChanges(Protocol):
    def case(self, case_id: str) -> CaseRow | None: ...

    def put_case(self, row: CaseRow, before: CaseRow | None = None) -> None:
        """Write a case's row; `before` is the row it replaces (as `case` read it), if any."""
        ...


class IndicatorRows(Protocol):
    def position(self) -> int: ...

    def changing(self, expected: int, new: int) -> Any:
        """A context manager yielding `IndicatorChanges`, committed with the new position only
        if the position is still `expected`; `PositionMoved` otherwise."""
        ...

    def submitted_between(self, start: datetime, end: datetime) -> list[CaseRow]: ...

    def case_hours(self, start: datetime, end: datetime) -> list[CaseHour]:
        """The aggregates of the cases submitted in [start, end)."""
        ...


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


_ALIKE = "channel, procedure, status, rejection, first_refused, last_failed, shared_from"
_HOUR_KEY = f"hour, {_ALIKE}, bucket"


class _SqlChanges:
    def __init__(self, cursor: Any, rows: "SqlIndicatorRows") -> None:
        self.cursor, self.cases, self.hours, self.p = cursor, rows.cases, rows.hours, rows.p

    def case(self, case_id: str) -> CaseRow | None:
        self.cursor.execute(
            f"SELECT {_COLUMNS} FROM {self.cases} WHERE case_id = {self.p}", (case_id,)
        )
        found = self.cursor.fetchone()
        return None if found is None else _row(found)

    def put_case(self, row: CaseRow, before: CaseRow | None = None) -> None:
        p = self.p
        self.cursor.execute(
            f"INSERT INTO {self.cases} ({_COLUMNS}) VALUES ({', '.join([p] * 10)}) "
            "ON CONFLICT (case_id) DO UPDATE SET ended_at = EXCLUDED.ended_at, "
            "status = EXCLUDED.status, rejection = EXCLUDED.rejection, "
            "first_refused = EXCLUDED.first_refused, last_failed = EXCLUDED.last_failed, "
            "shared_from = EXCLUDED.shared_from",
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
            ),
        )
        changed = [case_hour(row)] + ([] if before is None else [case_hour(before, -1)])
        for h in summed(changed):
            a = h.alike  # None is stored as '': a key column may not be NULL
            self.cursor.execute(
                f"INSERT INTO {self.hours} AS h ({_HOUR_KEY}, cases, total_s) "
                f"VALUES ({', '.join([p] * 11)}) ON CONFLICT ({_HOUR_KEY}) DO UPDATE SET "
                "cases = h.cases + EXCLUDED.cases, total_s = h.total_s + EXCLUDED.total_s",
                (h.hour, a.channel, a.procedure, a.status, a.rejection or "",
                 a.first_refused or "", a.last_failed or "", " ".join(a.shared_from),
                 h.bucket, h.cases, h.total_s),
            )  # fmt: skip


class SqlIndicatorRows:
    def __init__(self, datastore: Any, prefix: str, p: str) -> None:
        self.datastore, self.p = datastore, p
        self.cases, self.hours, self.positions = (
            f"{prefix}indicator_cases",
            f"{prefix}indicator_hours",
            f"{prefix}indicator_position",
        )
        index = f"{self.cases.rsplit('.', 1)[-1].strip(chr(34))}_by_submission"
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.positions} "
                "(name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )
            if not schema_is_current(
                cursor, f"{prefix}projection_schemas", "indicators", SCHEMA_VERSION, p
            ):
                for table in (self.cases, self.hours):
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"DELETE FROM {self.positions} WHERE name = 'indicators'")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.cases} (case_id TEXT PRIMARY KEY, "
                "procedure TEXT NOT NULL, channel TEXT NOT NULL, submitted_at TEXT NOT NULL, "
                "ended_at TEXT, status TEXT NOT NULL, rejection TEXT, first_refused TEXT, "
                "last_failed TEXT, shared_from TEXT NOT NULL DEFAULT '')"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {self.cases} (submitted_at)")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.hours} (hour TEXT NOT NULL, "
                "channel TEXT NOT NULL, procedure TEXT NOT NULL, status TEXT NOT NULL, "
                "rejection TEXT NOT NULL, first_refused TEXT NOT NULL, "
                "last_failed TEXT NOT NULL, shared_from TEXT NOT NULL, bucket INTEGER NOT NULL, "
                "cases INTEGER NOT NULL, total_s DOUBLE PRECISION NOT NULL, "
                f"PRIMARY KEY ({_HOUR_KEY}))"
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
            yield _SqlChanges(cursor, self)

    def submitted_between(self, start: datetime, end: datetime) -> list[CaseRow]:
        p = self.p
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.cases} "
                f"WHERE submitted_at >= {p} AND submitted_at < {p}",
                (start.isoformat(), end.isoformat()),
            )
            return [_row(r) for r in cursor.fetchall()]

    def case_hours(self, start: datetime, end: datetime) -> list[CaseHour]:
        whole, edges = split(start, end)
        hours = [case_hour(r) for a, b in edges for r in self.submitted_between(a, b)]
        if whole is None:
            return summed(hours)
        p = self.p
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {_HOUR_KEY}, cases, total_s FROM {self.hours} "
                f"WHERE hour >= {p} AND hour < {p} AND cases <> 0",
                whole,
            )
            for r in cursor.fetchall():
                alike = CaseGroup(
                    str(r["channel"]), "", str(r["procedure"]), str(r["status"]),
                    r["rejection"] or None, r["first_refused"] or None, r["last_failed"] or None,
                    tuple(str(r["shared_from"]).split()), cases=0,
                )  # fmt: skip
                hours.append(
                    CaseHour(str(r["hour"]), alike, int(r["bucket"]), int(r["cases"]),
                             float(r["total_s"]))
                )  # fmt: skip
        return summed(hours)


class _MemoryChanges:
    def __init__(self, rows: "MemoryIndicatorRows") -> None:
        self.rows = rows

    def case(self, case_id: str) -> CaseRow | None:
        return self.rows.cases.get(case_id)

    def put_case(self, row: CaseRow, before: CaseRow | None = None) -> None:
        self.rows.cases[row.case_id] = replace(row)


class MemoryIndicatorRows:
    """For the in-memory ledger (`memory:`): the aggregates summed from the rows when read."""

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

    def case_hours(self, start: datetime, end: datetime) -> list[CaseHour]:
        return summed(case_hour(r) for r in self.submitted_between(start, end))


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
