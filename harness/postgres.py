"""A database of its own on a PostgreSQL server, for one run (a fault scenario, a benchmark):
created on the server's maintenance database and dropped at the end."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def with_database(dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


@contextmanager
def fresh_database(dsn: str, prefix: str = "ventanilla_fault") -> Iterator[str]:
    """The URL of a new, empty `<prefix>_<random>` database on `dsn`'s server."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    maintenance = with_database(dsn, "postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(dsn, name)
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
