"""Fixtures of the fault suite: where each scenario's figures are kept for docs/reliability.md."""

import os
from pathlib import Path

import pytest

from .checker import RESULTS_FILE_ENV


@pytest.fixture
def results_file() -> Path | None:
    """`VENTANILLA_FAULTS_RESULTS=path` appends one JSON line per scenario to that file."""
    path = os.environ.get(RESULTS_FILE_ENV)
    return Path(path) if path else None
