"""Fixtures of the unit tests: a data dir's place and a gateway on the in-memory bus."""

from pathlib import Path

import pytest

from tests.fakes import Gateway, gateway


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Where a test's local stack would keep its state (not created until something writes)."""
    return tmp_path / "var"


@pytest.fixture
def gw(tmp_path: Path) -> Gateway:
    """The real gateway app on a fresh in-memory bus; tests needing more build their own."""
    return gateway(tmp_path)
