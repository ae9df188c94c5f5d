# ruff: noqa: S608  (the table name is built once in __init__ from the store's own schema name)
"""Which incarnation of each stream the ledger's positions belong to.

A stream sequence means something only inside one stream. A NATS store that is lost and made
again (a deleted data dir beside a surviving PostgreSQL, disaster recovery, a rebuilt cluster,
a deleted stream) numbers its messages from 1 again, and a ledger that kept its old positions
would skip every new message up to them: answered `202`, never recorded, no warning. So the
ledger records, for each source, the identity of the stream its positions were read from (the
stream's creation time: JetStream keeps it across restarts and replicas, and a stream created
again gets a new one) and checks the stream it finds against it before it reads a message.

It never guesses: a stream that is not the one it followed, or one that ends before the
ledger's position (a NATS store older than the database), stops the ledger with the problem
and the way out. The way out for a stream that is lost for good is `follow_new_streams()`: each
source then gets a tracking name never used before, so its position starts at 0 and the next
stream found is read from its first message. Old tracking records stay, as history.

A stream restored from an older backup keeps its creation time, and once it has taken new
messages it may reach past the ledger's position again. So the ledger also keeps a sample: one
message it read (its sequence and the time the stream stored it), refreshed on its first batch,
every few seconds and when it stops. A stream whose message at that sequence is another one is
not the stream the ledger read. The ledger purges the commands it has recorded (retiring.py),
so a sampled command is usually gone: a sample no longer on the stream is not compared.

A row: the source (`commands`, `results`), the stream's name, its creation time (NULL: follow
the next stream found), the tracking name its positions are saved under, the sample, and when
the row was written.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from services.errors import VentanillaError

WAY_OUT = (
    "The ledger's database, its master key and the NATS store go together. Restore the NATS "
    "store that belongs to this database; or, if that stream is lost for good, stop the ledger "
    "and run `ventanilla ledger follow-new-streams` to read the new streams from their first "
    "message; or, to start over, empty the database too (see the README)."
)


class StreamMismatch(VentanillaError):
    """The stream on the bus is not the one the ledger's positions belong to."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem} {WAY_OUT}")
        self.problem = problem


@dataclass(frozen=True)
class StreamIdentity:
    """What the bus says about a stream now."""

    name: str
    created: str  # ISO 8601, UTC
    first_seq: int
    last_seq: int


@dataclass(frozen=True)
class Followed:
    """What the ledger recorded about the stream a source's positions come from."""

    source: str
    stream: str
    created: str | None  # None: follow the next stream found, from its first message
    tracking_name: str
    sample: "Sample | None" = None


@dataclass(frozen=True)
class Sample:
    """A message the ledger read: its stream sequence and the time the stream stored it."""

    seq: int
    stored_at: str  # ISO 8601, UTC


class FollowedStreams(Protocol):
    def get(self, source: str) -> Followed | None: ...

    def put(self, followed: Followed) -> None: ...

    def sample(self, source: str, sample: Sample) -> None: ...


def check_stream(
    source: str,
    followed: Followed | None,
    current: StreamIdentity,
    position_of: Callable[[str], int],
) -> tuple[Followed, bool]:
    """The stream `source` may be read from, and whether that record is new (to be saved).

    Raises `StreamMismatch` when reading it could skip or misplace a message.
    """
    if followed is None:
        # A new ledger, or one from before streams were recorded: its positions (if any) are
        # taken to belong to this stream only if the stream reaches them.
        position = position_of(source)
        if position > current.last_seq:
            raise StreamMismatch(_behind(source, current, position))
        return Followed(source, current.name, current.created, source), True
    if followed.created is None:
        return Followed(source, current.name, current.created, followed.tracking_name), True
    if followed.stream != current.name or followed.created != current.created:
        position = position_of(followed.tracking_name)
        raise StreamMismatch(
            f"The {source} stream {current.name} on the bus was created at {current.created}, "
            f"but this ledger's {source} position ({position}) belongs to {followed.stream} "
            f"created at {followed.created}: the stream was lost and made again, and reading "
            "it from that position would skip its first messages."
        )
    position = position_of(followed.tracking_name)
    if position > current.last_seq:
        raise StreamMismatch(_behind(source, current, position))
    return followed, False


def _behind(source: str, current: StreamIdentity, position: int) -> str:
    return (
        f"The {source} stream {current.name} ends at sequence {current.last_seq}, but this "
        f"ledger has already read up to {position}: the NATS store is older than the ledger's "
        "database (restored from an older backup, or another store), and new messages would "
        "be skipped."
    )


def check_sample(source: str, followed: Followed, found: Sample | None) -> None:
    """`found`: the stream's message at the sample's sequence now, None when it is gone."""
    sample = followed.sample
    if sample is None or found is None or found == sample:
        return
    raise StreamMismatch(
        f"The message at sequence {sample.seq} of the {source} stream {followed.stream} was "
        f"stored at {found.stored_at}, but the one this ledger read there was stored at "
        f"{sample.stored_at}: the stream was restored from an older backup and has taken new "
        "messages since, which the ledger's position would skip."
    )


def fresh_tracking_name(source: str, now: datetime | None = None) -> str:
    return f"{source}@{(now or datetime.now(UTC)).isoformat(timespec='microseconds')}"


class SqlFollowedStreams:
    def __init__(self, datastore: Any, table: str, placeholder: str) -> None:
        self.datastore = datastore
        self.table = table
        self.p = placeholder
        self._select = (
            f"SELECT source, stream, created, tracking_name, sample_seq, sample_time FROM {table}"
        )
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                "source TEXT PRIMARY KEY, stream TEXT NOT NULL, created TEXT, "
                "tracking_name TEXT NOT NULL, sample_seq BIGINT, sample_time TEXT, "
                "recorded_at TEXT NOT NULL)"
            )

    def get(self, source: str) -> Followed | None:
        rows = self._rows(f"{self._select} WHERE source = {self.p}", source)
        return rows[0] if rows else None

    def put(self, followed: Followed) -> None:
        p = self.p
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (source, stream, created, tracking_name, "
                f"sample_seq, sample_time, recorded_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) "
                "ON CONFLICT (source) DO UPDATE SET stream = excluded.stream, "
                "created = excluded.created, tracking_name = excluded.tracking_name, "
                "sample_seq = excluded.sample_seq, sample_time = excluded.sample_time, "
                "recorded_at = excluded.recorded_at",
                (
                    followed.source,
                    followed.stream,
                    followed.created,
                    followed.tracking_name,
                    followed.sample.seq if followed.sample else None,
                    followed.sample.stored_at if followed.sample else None,
                    _now(),
                ),
            )

    def sample(self, source: str, sample: Sample) -> None:
        p = self.p
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET sample_seq = {p}, sample_time = {p}, recorded_at = {p} "
                f"WHERE source = {p}",
                (sample.seq, sample.stored_at, _now(), source),
            )

    def _rows(self, sql: str, *params: Any) -> list[Followed]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        return [
            Followed(
                str(r["source"]),
                str(r["stream"]),
                None if r["created"] is None else str(r["created"]),
                str(r["tracking_name"]),
                None
                if r["sample_seq"] is None
                else Sample(int(r["sample_seq"]), str(r["sample_time"])),
            )
            for r in found
        ]


class MemoryFollowedStreams:
    """For the in-memory ledger, which forgets its positions with everything else."""

    def __init__(self) -> None:
        self.rows: dict[str, Followed] = {}

    def get(self, source: str) -> Followed | None:
        return self.rows.get(source)

    def put(self, followed: Followed) -> None:
        self.rows[followed.source] = followed

    def sample(self, source: str, sample: Sample) -> None:
        if source in self.rows:
            self.rows[source] = replace(self.rows[source], sample=sample)


def followed_streams_for(recorder: Any) -> FollowedStreams:
    """The table in the same database as the recorder's events and tracking records."""
    datastore: Any = getattr(recorder, "datastore", None)
    module = type(datastore).__module__  # by name, as keystore.key_store_for (import cost)
    if module == "eventsourcing.sqlite":
        return SqlFollowedStreams(datastore, "followed_streams", "?")
    if module == "eventsourcing.postgres":
        schema = '"' + datastore.schema.replace('"', '""') + '"'
        return SqlFollowedStreams(datastore, f"{schema}.caseledger_followed_streams", "%s")
    return MemoryFollowedStreams()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
