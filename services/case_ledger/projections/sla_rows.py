# ruff: noqa: S608  (table names are built once in __init__ from the store's own schema name)
"""Where the ANS projection keeps its rows: tables in the ledger's own database.

One row per step of a case (compensations excluded: they undo a step, they are not a service
the entity agreed to give), the procedure, channel and status of each case, and the position
in the ledger's notification log up to which the rows are complete. Rows and position change in one
transaction, so the projection never counts an event twice or skips one, whoever catches it up.

Its length (over 300 lines) is the same row store written twice, for SQL (SQLite and
PostgreSQL) and in memory, with the queries the report needs: kept in one module so the two
stay the same, which the projection's tests check on each.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


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


def step_counts_of(rows: list[StepRow]) -> list[StepCount]:
    """The counts computed row by row: the in-memory ledger's way, and the SQL's reference."""
    groups: dict[tuple[str, str, str, str | None], list[StepRow]] = {}
    for row in rows:
        key = (row.dispatched_at.date().isoformat(), row.entity, row.procedure, row.outcome)
        groups.setdefault(key, []).append(row)
    return [
        StepCount(
            *key,
            steps=len(group),
            retries=sum(r.attempts - 1 for r in group),
            oldest_open=min(
                (r.dispatched_at for r in group if r.finished_at is None), default=None
            ),
        )
        for key, group in groups.items()
    ]


Group = tuple[str, str, str]  # entity, service, procedure
Deadlines = dict[tuple[str, str], float]  # (procedure, step id) -> the ANS deadline, seconds


@dataclass(frozen=True)
class AnsweredFigures:
    """A group's answered steps of a period: how many, how many in time, the percentiles of
    their durations (nearest rank), and the late ones (case id, step id, seconds)."""

    answered: int
    within: int
    p50_s: float | None
    p95_s: float | None
    late: tuple[tuple[str, str, float], ...]


def nearest_rank(n: int, q_percent: int) -> int:
    """The 1-based rank of the q-th percentile among n sorted values (ceil(q n / 100))."""
    return max(1, (q_percent * n + 99) // 100)


def answered_figures(rows: list[StepRow], deadlines: Deadlines) -> dict[Group, AnsweredFigures]:
    """The figures computed row by row: the in-memory ledger's way, and the SQL's reference."""
    durations: dict[Group, list[float]] = {}
    within: dict[Group, int] = {}
    late: dict[Group, list[tuple[str, str, float]]] = {}
    for row in rows:
        if row.finished_at is None:
            continue
        key = (row.entity, row.service, row.procedure)
        taken = (row.finished_at - row.dispatched_at).total_seconds()
        durations.setdefault(key, []).append(taken)
        deadline = deadlines.get((row.procedure, row.step_id), 0.0)
        if taken <= deadline and not row.overdue:
            within[key] = within.get(key, 0) + 1
        else:
            late.setdefault(key, []).append((row.case_id, row.step_id, taken))
    figures = {}
    for key, values in durations.items():
        values.sort()
        n = len(values)
        figures[key] = AnsweredFigures(
            n,
            within.get(key, 0),
            values[nearest_rank(n, 50) - 1],
            values[nearest_rank(n, 95) - 1],
            tuple(late.get(key, [])),
        )
    return figures


class SlaChanges(Protocol):
    """What one catch-up writes, inside its transaction."""

    def case_procedure(self, case_id: str) -> str | None: ...

    def add_case(self, case_id: str, procedure: str, channel: str) -> None: ...

    def end_case(self, case_id: str, status: str) -> None: ...

    def step(self, case_id: str, step_id: str) -> StepRow | None: ...

    def put_step(self, row: StepRow) -> None: ...


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

    def step_counts(self, start: datetime, end: datetime) -> list[StepCount]:
        """The period's steps counted in the database, for the management indicators."""
        ...

    def case_counts(self) -> list[tuple[str, str, str, int]]:
        """(procedure, channel, status, cases); status `open`, `completed` or `rejected`."""
        ...

    def answered(
        self, start: datetime, end: datetime, entity: str | None, deadlines: Deadlines
    ) -> dict[Group, AnsweredFigures]: ...

    def unanswered(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]: ...


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
    )


_COLUMNS = (
    "case_id, step_id, procedure, entity, service, dispatched_at, finished_at, outcome, "
    "attempts, overdue"
)
# Kept beside the two moments so the report's aggregates run in the database.
_STORED = _COLUMNS + ", duration_s"


class _SqlChanges:
    def __init__(self, cursor: Any, steps: str, cases: str, p: str) -> None:
        self.cursor, self.steps, self.cases, self.p = cursor, steps, cases, p

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

    def put_step(self, row: StepRow) -> None:
        p = self.p
        self.cursor.execute(
            f"INSERT INTO {self.steps} ({_STORED}) VALUES ({', '.join([p] * 11)}) "
            "ON CONFLICT (case_id, step_id) DO UPDATE SET finished_at = EXCLUDED.finished_at, "
            "outcome = EXCLUDED.outcome, attempts = EXCLUDED.attempts, "
            "overdue = EXCLUDED.overdue, duration_s = EXCLUDED.duration_s",
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
                None
                if row.finished_at is None
                else (row.finished_at - row.dispatched_at).total_seconds(),
            ),
        )


class SqlSlaRows:
    def __init__(self, datastore: Any, prefix: str, p: str) -> None:
        self.datastore = datastore
        self.steps, self.cases, self.positions = (
            f"{prefix}sla_steps",
            f"{prefix}sla_cases",
            f"{prefix}sla_position",
        )
        self.p = p
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.steps} (case_id TEXT NOT NULL, "
                "step_id TEXT NOT NULL, procedure TEXT NOT NULL, entity TEXT NOT NULL, "
                "service TEXT NOT NULL, dispatched_at TEXT NOT NULL, finished_at TEXT, "
                "outcome TEXT, attempts INTEGER NOT NULL, overdue INTEGER NOT NULL, "
                "duration_s DOUBLE PRECISION, PRIMARY KEY (case_id, step_id))"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {self.steps.rsplit('.', 1)[-1].strip(chr(34))}"
                f"_by_dispatch ON {self.steps} (dispatched_at)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.cases} (case_id TEXT PRIMARY KEY, "
                "procedure TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.positions} "
                "(name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
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
            yield _SqlChanges(cursor, self.steps, self.cases, p)

    def steps_between(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        p = self.p
        sql = (
            f"SELECT {_COLUMNS} FROM {self.steps} "
            f"WHERE dispatched_at >= {p} AND dispatched_at < {p}"
        )
        params: list[Any] = [start.isoformat(), end.isoformat()]
        if entity is not None:
            sql += f" AND entity = {p}"
            params.append(entity)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            return [_row(r) for r in cursor.fetchall()]

    def _period(self, start: datetime, end: datetime, entity: str | None) -> tuple[str, list[Any]]:
        p = self.p
        where = f"s.dispatched_at >= {p} AND s.dispatched_at < {p}"
        params: list[Any] = [start.isoformat(), end.isoformat()]
        if entity is not None:
            where += f" AND s.entity = {p}"
            params.append(entity)
        return where, params

    def answered(
        self, start: datetime, end: datetime, entity: str | None, deadlines: Deadlines
    ) -> dict[Group, AnsweredFigures]:
        if not deadlines:
            return {}
        p = self.p
        where, params = self._period(start, end, entity)
        where += " AND s.duration_s IS NOT NULL"
        values = ", ".join(f"({p}, {p}, CAST({p} AS DOUBLE PRECISION))" for _ in deadlines)
        known = [x for (procedure, step), seconds in deadlines.items()
                 for x in (procedure, step, seconds)]  # fmt: skip
        # Steps of a procedure the catalog no longer has get a deadline of 0: all late.
        joined = (
            f"WITH d (procedure, step_id, deadline_s) AS (VALUES {values}) "
            "SELECT s.case_id, s.step_id, s.entity, s.service, s.procedure, s.duration_s, "
            "CASE WHEN s.duration_s <= COALESCE(d.deadline_s, 0) AND s.overdue = 0 "
            "THEN 1 ELSE 0 END AS within "
            f"FROM {self.steps} s LEFT JOIN d "
            f"ON d.procedure = s.procedure AND d.step_id = s.step_id WHERE {where}"
        )
        group = "entity, service, procedure"
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {group}, COUNT(*) AS n, SUM(within) AS within FROM ({joined}) j "
                f"GROUP BY {group}",
                known + params,
            )
            counts = {(r["entity"], r["service"], r["procedure"]): (int(r["n"]), int(r["within"]))
                      for r in cursor.fetchall()}  # fmt: skip
            cursor.execute(
                f"SELECT {group}, case_id, step_id, duration_s FROM ({joined}) j WHERE within = 0",
                known + params,
            )
            late: dict[Group, list[tuple[str, str, float]]] = {}
            for r in cursor.fetchall():
                key = (r["entity"], r["service"], r["procedure"])
                late.setdefault(key, []).append(
                    (str(r["case_id"]), str(r["step_id"]), float(r["duration_s"]))
                )
            cursor.execute(
                f"SELECT {group}, duration_s, rn, n FROM (SELECT s.entity, s.service, "
                "s.procedure, s.duration_s, ROW_NUMBER() OVER (PARTITION BY s.entity, "
                "s.service, s.procedure ORDER BY s.duration_s) AS rn, COUNT(*) OVER "
                f"(PARTITION BY s.entity, s.service, s.procedure) AS n FROM {self.steps} s "
                f"WHERE {where}) r WHERE rn = (n * 50 + 99) / 100 OR rn = (n * 95 + 99) / 100",
                params,
            )
            ranked: dict[Group, dict[int, float]] = {}
            for r in cursor.fetchall():
                key = (r["entity"], r["service"], r["procedure"])
                ranked.setdefault(key, {})[int(r["rn"])] = float(r["duration_s"])
        figures = {}
        for key, (n, within) in counts.items():
            at = ranked.get(key, {})
            figures[key] = AnsweredFigures(
                n,
                within,
                at.get(nearest_rank(n, 50)),
                at.get(nearest_rank(n, 95)),
                tuple(late.get(key, [])),
            )
        return figures

    def unanswered(self, start: datetime, end: datetime, entity: str | None) -> list[StepRow]:
        where, params = self._period(start, end, entity)
        columns = ", ".join(f"s.{c.strip()}" for c in _COLUMNS.split(","))
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {self.steps} s WHERE {where} AND s.finished_at IS NULL",
                params,
            )
            return [_row(r) for r in cursor.fetchall()]

    def step_counts(self, start: datetime, end: datetime) -> list[StepCount]:
        where, params = self._period(start, end, None)
        # Moments are stored as UTC ISO strings, so their first ten characters are the UTC day.
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT SUBSTR(s.dispatched_at, 1, 10) AS day, s.entity, s.procedure, "
                "s.outcome, COUNT(*) AS n, SUM(s.attempts - 1) AS retries, "
                "MIN(CASE WHEN s.finished_at IS NULL THEN s.dispatched_at END) AS oldest "
                f"FROM {self.steps} s WHERE {where} "
                "GROUP BY SUBSTR(s.dispatched_at, 1, 10), s.entity, s.procedure, s.outcome",
                params,
            )
            return [
                StepCount(
                    str(r["day"]),
                    str(r["entity"]),
                    str(r["procedure"]),
                    r["outcome"],
                    int(r["n"]),
                    int(r["retries"]),
                    None if r["oldest"] is None else datetime.fromisoformat(r["oldest"]),
                )
                for r in cursor.fetchall()
            ]

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


class PositionMoved(Exception):
    """Another reader caught the projection up first: this catch-up's changes are dropped."""


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

    def put_step(self, row: StepRow) -> None:
        self.rows.steps[(row.case_id, row.step_id)] = row


class MemorySlaRows:
    """For the in-memory ledger (`memory:`)."""

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

    def step_counts(self, start: datetime, end: datetime) -> list[StepCount]:
        return step_counts_of(self.steps_between(start, end, None))

    def answered(
        self, start: datetime, end: datetime, entity: str | None, deadlines: Deadlines
    ) -> dict[Group, AnsweredFigures]:
        return answered_figures(self.steps_between(start, end, entity), deadlines)

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
