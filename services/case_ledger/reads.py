# ruff: noqa: S608  (the table name is built once in __init__ from the store's own schema name)
"""Every read of a citizen's personal data, recorded in the ledger's own database.

Auditor histories and replays, access-log queries, bundle exports and (through `record_case_read`)
a clerk's view of a case each leave a row per citizen whose data was read, refused reads too:
the citizen's access log shows them beside the DL 1211 exchanges ("consultado por"). Rows follow
the fields of Estonia's Data Tracker (see `schemas.views.DataRead`) and hold no personal value:
the citizen is named by their data key's id, as in the access-log projection, so an erasure
unlinks them (and `forget` deletes them). Reading them back costs O(that citizen's rows).
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from schemas.queries import ReadContext
from schemas.views import DataRead

HOLDER = "ventanilla"  # the records read are the ledger's


class ReadTable(Protocol):
    def add(self, rows: list[tuple[str, str]]) -> None:
        """(citizen key id, DataRead as JSON) rows, in one transaction."""
        ...

    def of(self, citizen: str) -> list[str]: ...

    def forget(self, citizen: str) -> None: ...


class SqlReadTable:
    def __init__(self, datastore: Any, table: str, placeholder: str, serial: str) -> None:
        self.datastore = datastore
        self.table = table
        self.p = placeholder
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (id {serial}, "
                "citizen TEXT NOT NULL, body TEXT NOT NULL)"
            )
            index = table.replace('"', "").replace(".", "_") + "_citizen"
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} (citizen, id)")

    def add(self, rows: list[tuple[str, str]]) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for citizen, body in rows:
                cursor.execute(
                    f"INSERT INTO {self.table} (citizen, body) VALUES ({self.p}, {self.p})",
                    (citizen, body),
                )

    def of(self, citizen: str) -> list[str]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT body FROM {self.table} WHERE citizen = {self.p} ORDER BY id", (citizen,)
            )
            return [str(r["body"]) for r in cursor.fetchall()]

    def forget(self, citizen: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {self.table} WHERE citizen = {self.p}", (citizen,))


class MemoryReadTable:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []

    def add(self, rows: list[tuple[str, str]]) -> None:
        self.rows += rows

    def of(self, citizen: str) -> list[str]:
        return [body for who, body in self.rows if who == citizen]

    def forget(self, citizen: str) -> None:
        self.rows = [(who, body) for who, body in self.rows if who != citizen]


def read_table_for(recorder: Any) -> ReadTable:
    datastore: Any = getattr(recorder, "datastore", None)
    module = type(datastore).__module__
    if module == "eventsourcing.sqlite":
        return SqlReadTable(datastore, "personal_data_reads", "?", "INTEGER PRIMARY KEY")
    if module == "eventsourcing.postgres":
        schema = '"' + datastore.schema.replace('"', '""') + '"'
        return SqlReadTable(
            datastore,
            f"{schema}.caseledger_personal_data_reads",
            "%s",
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        )
    return MemoryReadTable()


def data_read(
    context: ReadContext,
    action: str,
    case_id: UUID | None,
    role: str | None,
    when: datetime | None = None,
) -> DataRead:
    return DataRead(
        occurred_at=when or datetime.now(UTC),
        action=action,
        reader=f"{context.reader_kind}:{context.reader_id}",
        from_entity=HOLDER,
        to_entity=context.reader_id,
        request_id=context.request_id,
        service=context.service,
        purpose=context.purpose,
        refused=context.refused,
        restricted=context.restricted,
        case_id=case_id,
        role=role,
    )


class ReadLog:
    def __init__(self, table: ReadTable) -> None:
        self.table = table

    def record(self, reads: Iterable[tuple[str, DataRead]]) -> None:
        self.table.add([(citizen, read.model_dump_json()) for citizen, read in reads])

    def of(self, citizen: str) -> list[DataRead]:
        return [DataRead.model_validate_json(body) for body in self.table.of(citizen)]

    def forget(self, citizen: str) -> None:
        self.table.forget(citizen)
