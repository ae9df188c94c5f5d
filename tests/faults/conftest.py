"""Fixtures of the fault suite: where the ledger keeps its events, and where each scenario's
figures are kept for docs/reliability.md."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .checker import RESULTS_FILE_ENV
from .postgres import fresh_database


@pytest.fixture
def results_file() -> Path | None:
    """`VENTANILLA_FAULTS_RESULTS=path` appends one JSON line per scenario to that file."""
    path = os.environ.get(RESULTS_FILE_ENV)
    return Path(path) if path else None


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_store(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The `--store` of `ventanilla up`: None for the SQLite file in its data dir, or the URL of
    a fresh database on the machine's PostgreSQL (VENTANILLA_TEST_POSTGRES), dropped after."""
    if request.param == "sqlite":
        yield None
        return
    with fresh_database() as url:
        yield url
