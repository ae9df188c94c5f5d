"""`make bench` is not part of `make test`, so a rename in services/ or schemas/ could break it
unseen: every bench module must at least import (what it names must still exist)."""

import importlib
import pkgutil

import pytest

import bench


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.iter_modules(bench.__path__)))
def test_every_bench_module_imports(name: str) -> None:
    importlib.import_module(f"bench.{name}")
