# ruff: noqa: S608  (table names are built once in __init__ from the store's own schema name)
"""Where the ANS projection keeps its rows: tables in the ledger's own database.

One row per step of a case (compensations excluded: they undo a step, they are not a service
the entity agreed to give), the procedure, channel and status of each case, the per-hour
aggregates the reports read (hours.py), and the position in the ledger's notification log up to
which they are complete. All change in one transaction, so the projection never counts an event
twice or skips one, whoever catches it up.

An aggregate row counts the steps first dispatched in one UTC hour, by entity, service,
procedure, outcome (`open` while unanswered) and duration bucket (histogram.py): how many, how
many within their deadline, and their attempts beyond the first. A step's row replaced (a
retry, its answer) takes its old contribution out and puts its new one in. Late steps and
unanswered ones stay exact: the step rows, read through partial indexes.

Its length (over 300 lines) is the same row store written twice, for SQL (SQLite and
PostgreSQL) and in memory, with the queries the report needs: kept in one module so the two
stay the same, which the projection's tests check on each.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from .histogram import NO_BUCKET, bucket_of, percentile
from .hours import hour_key, split
from .tracking import PositionMoved, schema_is_current

SCHEMA_VERSION = 2  # 2: per-hour aggregates, each step's deadline and lateness


@dataclass(frozen=True)
class StepRow:
    case_id: str
    step_id: str
    procedure: str
    entity: str
    service: str
    dispatched_at: datetime  # the first attempt's dispatch: the entity's clock starts here
    finished_at: datetime | None  # the last answer; None while an attempt is open
    outcome: str | None  # completed, rejected or failed (the latest attempt's)
    attempts: int
    overdue: bool  # an attempt passed its deadline (StepOverdue)
    deadline_s: float = 0.0  # the catalog's deadline when the step was dispatched

    @property
    def duration_s(self) -> float | None:
        return (
            None
            if self.finished_at is None
            else (self.finished_at - self.dispatched_at).total_seconds()
        )

    @property
    def late(self) -> bool:
        """Answered, and after its deadline or with an attempt overdue."""
        taken = self.duration_s
        return taken is not None and (self.overdue or taken > self.deadline_s)


@dataclass(frozen=True)
class HourLine:
    """The steps first dispatched in one UTC hour that are alike in what the reports count."""

    hour: str  # 'YYYY-MM-DDTHH', UTC
    entity: str
    service: str
    procedure: str
    outcome: str  # completed, rejected, failed, or `open` while unanswered
    bucket: int  # the duration's (histogram.py); NO_BUCKET while unanswered
    steps: int
    within: int
    retries: int  # attempts beyond each step's first


def contribution(row: StepRow, sign: int = 1) -> HourLine:
    """What one step adds to its hour's aggregates (sign -1: what taking it out removes)."""
    taken = row.duration_s
    return HourLine(
        hour_key(row.dispatched_at), row.entity, row.service, row.procedure,
        row.outcome or "open", NO_BUCKET if taken is None else bucket_of(taken),
        sign, sign * int(taken is not None and not row.late), sign * (row.attempts - 1),
    )  # fmt: skip


def summed(lines: Iterable[HourLine]) -> list[HourLine]:
    """Lines alike (hour, group, outcome, bucket) added up; those all zero left out (a step
    dispatched again while open takes itself out and puts itself back: only its retries
    change)."""
    found: dict[tuple[str, str, str, str, str, int], HourLine] = {}
    for line in lines:
        key = (line.hour, line.entity, line.service, line.procedure, line.outcome, line.bucket)
        had = found.get(key)
        found[key] = line if had is None else replace(
            had, steps=had.steps + line.steps, within=had.within + line.within,
            retries=had.retries + line.retries,
        )  # fmt: skip
    return [line for line in found.values() if (line.steps, line.within, line.retries) != (0, 0, 0)]


@dataclass(frozen=True)
class StepCount:
    """The steps first dispatched on a UTC day, by entity, procedure and how they stand."""

    day: str  # ISO date
    entity: str
    procedure: str
    outcome: str | None  # None: unanswered yet
    steps: int
    retries: int  # attempts beyond each step's first
    oldest_open: datetime | None  # the earliest first dispatch among the unanswered


Group = tuple[str, str, str]  # entity, service, procedure


@dataclass(frozen=True)
class AnsweredFigures:
    """A group's answered steps of a period: how many, how many in time, the percentiles of
    their durations (bucketed: histogram.py), and the late ones (case id, step id, seconds)."""

    answered: int
    within: int
    p50_s: float | None
    p95_s: float | None
    late: tuple[tuple[str, str, float], ...]


class SlaChanges(Protocol):
    """What one catch-up writes, inside its transaction."""

    def case_procedure(self, case_id: str) -> str | None: ...

    def add_case(self, case_id: str, procedure: str, channel: str) -> None: ...

    def end_case(self, case_id: str, status: str) -> None: ...

    def step(self, case_id: str, step_id: str) -> StepRow | None: ...

    def put_step(self, row: StepRow, before: StepRow | None = None) -> None:
        """Write a step's row; `before` is the row it replaces (as `step` read it), if any."""
        ...


class SlaRows(Protocol):
    def position(self) -> int: ...

    def changing(self, expected: int, new: int) -> Any:
        """A context manager yielding `SlaChanges`; commits them with the new position only if
        the position is still `expected` (another reader may have caught up meanwhile)."""
        ...

    def steps_between(
        self, start: datetime, end: datetime, entity: str | None
    ) -> list[StepRow]: ...

    def all_steps(self) -> list[StepRow]: ...

    def hour_lines(self, start: datetime, end: datetime, entity: str | None) -> list[HourLine]:
        """The aggregates of the steps first dispatched in [start, end)."""
        ...

    def late(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        """The period's answered steps that were late."""
        ...

    def unanswered(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        """The period's steps with no answer yet."""
        ...

    def case_counts(self) -> list[tuple[str, str, str, int]]:
        """(procedure, channel, status, cases); status `open`, `completed` or `rejected`."""
        ...


def answered(
    rows: SlaRows, start: datetime, end: datetime, entity: str | None
) -> dict[Group, AnsweredFigures]:
    """The period's answered steps per group, from the aggregates and the late steps."""
    counts: dict[Group, dict[str, Any]] = {}
    for line in rows.hour_lines(start, end, entity):
        if line.bucket == NO_BUCKET:
            continue
        group = counts.setdefault(
            (line.entity, line.service, line.procedure), {"n": 0, "within": 0, "buckets": {}}
        )
        group["n"] += line.steps
        group["within"] += line.within
        group["buckets"][line.bucket] = group["buckets"].get(line.bucket, 0) + line.steps
    late: dict[Group, list[tuple[str, str, float]]] = {}
    for row in rows.late(start, end, entity):
        late.setdefault((row.entity, row.service, row.procedure), []).append(
            (row.case_id, row.step_id, row.duration_s or 0.0)
        )
    return {
        key: AnsweredFigures(
            c["n"],
            c["within"],
            percentile(c["buckets"], 50),
            percentile(c["buckets"], 95),
            tuple(late.get(key, [])),
        )
        for key, c in counts.items()
        if c["n"] > 0
    }


def step_counts(rows: SlaRows, start: datetime, end: datetime) -> list[StepCount]:
    """The period's steps per UTC day, entity, procedure and outcome, for the indicators."""
    counts: dict[tuple[str, str, str, str | None], list[int]] = {}
    for line in rows.hour_lines(start, end, None):
        key = (line.hour[:10], line.entity, line.procedure,
               None if line.outcome == "open" else line.outcome)  # fmt: skip
        n = counts.setdefault(key, [0, 0])
        n[0] += line.steps
        n[1] += line.retries
    oldest: dict[tuple[str, str, str], datetime] = {}
    for row in rows.unanswered(start, end, None):
        day = (hour_key(row.dispatched_at)[:10], row.entity, row.procedure)
        oldest[day] = min(row.dispatched_at, oldest.get(day, row.dispatched_at))
    return [
        StepCount(
            *key,
            steps=n,
            retries=retries,
            oldest_open=oldest.get(key[:3]) if key[3] is None else None,
        )
        for key, (n, retries) in counts.items()
        if n > 0
    ]


def _row(found: Any) -> StepRow:
    return StepRow(
        case_id=str(found["case_id"]),
        step_id=str(found["step_id"]),
        procedure=str(found["procedure"]),
        entity=str(found["entity"]),
        service=str(found["service"]),
        dispatched_at=datetime.fromisoformat(found["dispatched_at"]),
        finished_at=(
            None if found["finished_at"] is None else datetime.fromisoformat(found["finished_at"])
        ),
        outcome=found["outcome"],
        attempts=int(found["attempts"]),
        overdue=bool(found["overdue"]),
        deadline_s=float(found["deadline_s"]),
    )


_COLUMNS = (
    "case_id, step_id, procedure, entity, service, dispatched_at, finished_at, outcome, "
    "attempts, overdue, deadline_s"
)
_STORED = _COLUMNS + ", duration_s, late"
_HOUR_KEY = "hour, entity, service, procedure, outcome, bucket"


class _SqlChanges:
    def __init__(self, cursor: Any, rows: "SqlSlaRows") -> None:
        self.cursor, self.steps, self.cases, self.p = cursor, rows.steps, rows.cases, rows.p
        self.hours = rows.hours

    def case_procedure(self, case_id: str) -> str | None:
        self.cursor.execute(
            f"SELECT procedure FROM {self.cases} WHERE case_id = {self.p}", (case_id,)
        )
        found = self.cursor.fetchone()
        return None if found is None else str(found["procedure"])

    def add_case(self, case_id: str, procedure: str, channel: str) -> None:
        p = self.p
        self.cursor.execute(
            f"INSERT INTO {self.cases} (case_id, procedure, channel, status) "
            f"VALUES ({p}, {p}, {p}, 'open') ON CONFLICT (case_id) DO NOTHING",
            (case_id, procedure, channel),
        )

    def end_case(self, case_id: str, status: str) -> None:
        p = self.p
        self.cursor.execute(
            f"UPDATE {self.cases} SET status = {p} WHERE case_id = {p}", (status, case_id)
        )

    def step(self, case_id: str, step_id: str) -> StepRow | None:
        p = self.p
        self.cursor.execute(
            f"SELECT {_COLUMNS} FROM {self.steps} WHERE case_id = {p} AND step_id = {p}",
            (case_id, step_id),
        )
        found = self.cursor.fetchone()
        return None if found is None else _row(found)

    def put_step(self, row: StepRow, before: StepRow | None = None) -> None:
        p = self.p
        self.cursor.execute(
            f"INSERT INTO {self.steps} ({_STORED}) VALUES ({', '.join([p] * 13)}) "
            "ON CONFLICT (case_id, step_id) DO UPDATE SET finished_at = EXCLUDED.finished_at, "
            "outcome = EXCLUDED.outcome, attempts = EXCLUDED.attempts, "
            "overdue = EXCLUDED.overdue, duration_s = EXCLUDED.duration_s, late = EXCLUDED.late",
            (
                row.case_id,
                row.step_id,
                row.procedure,
                row.entity,
                row.service,
                row.dispatched_at.isoformat(),
                None if row.finished_at is None else row.finished_at.isoformat(),
                row.outcome,
                row.attempts,
                int(row.overdue),
                row.deadline_s,
                row.duration_s,
                int(row.late),
            ),
        )
        changed = [contribution(row)] + ([] if before is None else [contribution(before, -1)])
        for line in summed(changed):
            self.cursor.execute(
                f"INSERT INTO {self.hours} AS h ({_HOUR_KEY}, steps, within, retries) "
                f"VALUES ({', '.join([p] * 9)}) ON CONFLICT ({_HOUR_KEY}) DO UPDATE SET "
                "steps = h.steps + EXCLUDED.steps, within = h.within + EXCLUDED.within, "
                "retries = h.retries + EXCLUDED.retries",
                (line.hour, line.entity, line.service, line.procedure, line.outcome,
                 line.bucket, line.steps, line.within, line.retries),
            )  # fmt: skip


class SqlSlaRows:
    def __init__(self, datastore: Any, prefix: str, p: str) -> None:
        self.datastore = datastore
        self.steps, self.cases, self.hours, self.positions = (
            f"{prefix}sla_steps",
            f"{prefix}sla_cases",
            f"{prefix}sla_hours",
            f"{prefix}sla_position",
        )
        self.p = p
        bare = self.steps.rsplit(".", 1)[-1].strip(chr(34))
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.positions} "
                "(name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )
            if not schema_is_current(
                cursor, f"{prefix}projection_schemas", "sla", SCHEMA_VERSION, p
            ):
                for table in (self.steps, self.cases, self.hours):
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"DELETE FROM {self.positions} WHERE name = 'sla'")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.steps} (case_id TEXT NOT NULL, "
                "step_id TEXT NOT NULL, procedure TEXT NOT NULL, entity TEXT NOT NULL, "
                "service TEXT NOT NULL, dispatched_at TEXT NOT NULL, finished_at TEXT, "
                "outcome TEXT, attempts INTEGER NOT NULL, overdue INTEGER NOT NULL, "
                "deadline_s DOUBLE PRECISION NOT NULL, duration_s DOUBLE PRECISION, "
                "late INTEGER NOT NULL, PRIMARY KEY (case_id, step_id))"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {bare}_by_dispatch ON {self.steps} (dispatched_at)"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {bare}_late ON {self.steps} (dispatched_at) "
                "WHERE late = 1"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {bare}_unanswered ON {self.steps} (dispatched_at) "
                "WHERE finished_at IS NULL"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.hours} (hour TEXT NOT NULL, "
                "entity TEXT NOT NULL, service TEXT NOT NULL, procedure TEXT NOT NULL, "
                "outcome TEXT NOT NULL, bucket INTEGER NOT NULL, steps INTEGER NOT NULL, "
                "within INTEGER NOT NULL, retries INTEGER NOT NULL, "
                f"PRIMARY KEY ({_HOUR_KEY}))"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.cases} (case_id TEXT PRIMARY KEY, "
                "procedure TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {self.positions} (name, position) VALUES ('sla', 0) "
                "ON CONFLICT (name) DO NOTHING"
            )

    def position(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT position FROM {self.positions} WHERE name = 'sla'")
            return int(cursor.fetchone()["position"])

    @contextmanager
    def changing(self, expected: int, new: int) -> Iterator[SlaChanges]:
        with self.datastore.transaction(commit=True) as cursor:
            p = self.p
            cursor.execute(
                f"UPDATE {self.positions} SET position = {p} WHERE name = 'sla' "
                f"AND position = {p} RETURNING position",
                (new, expected),
            )
            if cursor.fetchone() is None:
                raise PositionMoved(expected)
            yield _SqlChanges(cursor, self)

    def _select(
        self, start: datetime, end: datetime, entity: str | None, condition: str
    ) -> list[StepRow]:
        p = self.p
        sql = (
            f"SELECT {_COLUMNS} FROM {self.steps} "
            f"WHERE dispatched_at >= {p} AND dispatched_at < {p}{condition}"
        )
        params: list[Any] = [start.isoformat(), end.isoformat()]
        if entity is not None:
            sql += f" AND entity = {p}"
            params.append(entity)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            return [_row(r) for r in cursor.fetchall()]

    def steps_between(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        return self._select(start, end, entity, "")

    def late(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        return self._select(start, end, entity, " AND late = 1")

    def unanswered(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        return self._select(start, end, entity, " AND finished_at IS NULL")

    def hour_lines(self, start: datetime, end: datetime, entity: str | None) -> list[HourLine]:
        whole, edges = split(start, end)
        lines = [contribution(r) for a, b in edges for r in self.steps_between(a, b, entity)]
        if whole is None:
            return summed(lines)
        p = self.p
        sql = (
            f"SELECT {_HOUR_KEY}, steps, within, retries FROM {self.hours} "
            f"WHERE hour >= {p} AND hour < {p}"
        )
        params: list[Any] = list(whole)
        if entity is not None:
            sql += f" AND entity = {p}"
            params.append(entity)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            for r in cursor.fetchall():
                lines.append(
                    HourLine(
                        str(r["hour"]),
                        str(r["entity"]),
                        str(r["service"]),
                        str(r["procedure"]),
                        str(r["outcome"]),
                        int(r["bucket"]),
                        int(r["steps"]),
                        int(r["within"]),
                        int(r["retries"]),
                    )
                )
        return summed(lines)

    def all_steps(self) -> list[StepRow]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT {_COLUMNS} FROM {self.steps}")
            return [_row(r) for r in cursor.fetchall()]

    def case_counts(self) -> list[tuple[str, str, str, int]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT procedure, channel, status, COUNT(*) AS n FROM {self.cases} "
                "GROUP BY procedure, channel, status"
            )
            return [
                (str(r["procedure"]), str(r["channel"]), str(r["status"]), int(r["n"]))
                for r in cursor.fetchall()
            ]


class _MemoryChanges:
    def __init__(self, rows: "MemorySlaRows") -> None:
        self.rows = rows

    def case_procedure(self, case_id: str) -> str | None:
        found = self.rows.cases.get(case_id)
        return None if found is None else found[0]

    def add_case(self, case_id: str, procedure: str, channel: str) -> None:
        self.rows.cases.setdefault(case_id, (procedure, channel, "open"))

    def end_case(self, case_id: str, status: str) -> None:
        if case_id in self.rows.cases:
            procedure, channel, _ = self.rows.cases[case_id]
            self.rows.cases[case_id] = (procedure, channel, status)

    def step(self, case_id: str, step_id: str) -> StepRow | None:
        return self.rows.steps.get((case_id, step_id))

    def put_step(self, row: StepRow, before: StepRow | None = None) -> None:
        self.rows.steps[(row.case_id, row.step_id)] = row


class MemorySlaRows:
    """For the in-memory ledger (`memory:`): the aggregates summed from the rows when read."""

    def __init__(self) -> None:
        self.at = 0
        self.cases: dict[str, tuple[str, str, str]] = {}
        self.steps: dict[tuple[str, str], StepRow] = {}

    def position(self) -> int:
        return self.at

    @contextmanager
    def changing(self, expected: int, new: int) -> Iterator[SlaChanges]:
        if self.at != expected:
            raise PositionMoved(expected)
        yield _MemoryChanges(self)
        self.at = new

    def steps_between(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        return [
            r
            for r in self.steps.values()
            if start <= r.dispatched_at < end and (entity is None or r.entity == entity)
        ]

    def all_steps(self) -> list[StepRow]:
        return list(self.steps.values())

    def hour_lines(self, start: datetime, end: datetime, entity: str | None) -> list[HourLine]:
        return summed(contribution(r) for r in self.steps_between(start, end, entity))

    def late(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        return [r for r in self.steps_between(start, end, entity) if r.late]

    def unanswered(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        return [r for r in self.steps_between(start, end, entity) if r.finished_at is None]

    def case_counts(self) -> list[tuple[str, str, str, int]]:
        counts: dict[tuple[str, str, str], int] = {}
        for key in self.cases.values():
            counts[key] = counts.get(key, 0) + 1
        return [(*key, n) for key, n in counts.items()]


def sla_rows_for(recorder: Any) -> SlaRows:
    """The projection's tables in the same database as the recorder's events."""
    datastore: Any = getattr(recorder, "datastore", None)
    module = type(datastore).__module__
    if module == "eventsourcing.sqlite":
        return SqlSlaRows(datastore, "", "?")
    if module == "eventsourcing.postgres":
        schema = '"' + datastore.schema.replace('"', '""') + '".caseledger_'
        return SqlSlaRows(datastore, schema, "%s")
    return MemorySlaRows()
