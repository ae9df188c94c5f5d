"""Ledger stores for integration tests: a real SQLite file and a real PostgreSQL database."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from schemas.procedures import catalog
from services.bus.tracing import use_tracer_provider
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore

# The machine's PostgreSQL (trust auth); CI runs these tests, it does not skip them.
POSTGRES_DSN = os.environ.get(
    "VENTANILLA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def postgres_store(tmp_path: Path) -> Iterator[LedgerStore]:
    """A fresh schema per test, dropped afterwards, so tests never see each other's cases."""
    schema = f"ventanilla_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_DSN else "?"
    # The master key of the citizens' data keys lives outside the database, as in production.
    yield LedgerStore(
        f"{POSTGRES_DSN}{separator}schema={schema}", tmp_path / "personal-data-master.key"
    )
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_store(tmp_path: Path) -> LedgerStore:
    return LedgerStore.sqlite(tmp_path / "ledger" / "ledger.sqlite")


@pytest.fixture
def ledger(store: LedgerStore) -> Iterator[CaseLedger]:
    """The case ledger on each store, as the ledger process opens it."""
    app = CaseLedger(catalog(), store.environment())
    yield app
    app.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> LedgerStore:
    """Every store the ledger supports in production, one test body for both."""
    fixture: LedgerStore = request.getfixturevalue(f"{request.param}_store")
    return fixture


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span this process finishes, through a provider handed to our code explicitly
    (OpenTelemetry lets a process install its global provider only once)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    yield exporter
    use_tracer_provider(None)
