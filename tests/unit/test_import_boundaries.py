"""Who may import whom, read from the source (ast): shared code lives in modules that are not
test modules, the benchmarks and the shared harness stand without tests/, and what is shipped
(schemas, services) imports none of tests/, bench/ or harness/."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path, root: Path = ROOT) -> set[str]:
    """Every module (or name in one) that `path` imports anywhere in it, relative imports made
    absolute from `root`."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = node.module or ""
            stem = f"{base}.{module}".strip(".") if node.level else module
            names.add(stem)
            names.update(f"{stem}.{alias.name}" for alias in node.names)
    return names


def is_test_module(name: str) -> bool:
    return name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_no_module_under_tests_imports_a_test_module() -> None:
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sources("tests")
        for name in imported(path)
        if is_test_module(name)
    }
    assert not offenders, sorted(offenders)


def of(package: str, name: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("bench", ("tests",)),
        ("harness", ("tests", "bench")),
        ("services", ("tests", "bench", "harness")),  # what is shipped needs none of them
        ("schemas", ("tests", "bench", "harness")),
    ],
)
def test_no_module_there_imports_what_it_must_not(folder: str, forbidden: tuple[str, ...]) -> None:
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sources(folder)
        for name in imported(path)
        if any(of(package, name) for package in forbidden)
    }
    assert sources(folder)
    assert not offenders, sorted(offenders)


@pytest.mark.parametrize(
    ("source", "module", "found"),
    [
        ("from tests.integration.test_procedures import SCENARIOS", "tests/x.py", True),
        ("import tests.unit.test_catalog_files", "tests/x.py", True),
        ("from .test_catalog_files import VALID", "tests/unit/x.py", True),
        ("from . import test_catalog_files", "tests/unit/x.py", True),
        ("from ..unit.test_catalog_files import VALID", "tests/faults/x.py", True),
        ("from tests.factories import submit_command", "tests/x.py", False),
        ("from tests.testing_helpers import x", "tests/x.py", False),
    ],
)
def test_the_check_sees_a_test_module_however_it_is_imported(
    source: str, module: str, found: bool, tmp_path: Path
) -> None:
    path = tmp_path / module
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source + "\n")
    assert any(is_test_module(name) for name in imported(path, tmp_path)) is found
