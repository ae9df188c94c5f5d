"""The package `ventanilla adapter new` writes passes its own tests as written.

It is installed the way tests/e2e/test_entity_package.py installs an outside package (pip
`--target`, then PYTHONPATH); its tests run its handler in memory and its adapter on a real
nats-server, and its procedure file passes the catalog's checks.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import env_with, pip_install, ventanilla

pytestmark = pytest.mark.integration


def test_the_generated_package_passes_its_own_tests_and_the_catalog_checks(
    tmp_path: Path,
) -> None:
    out = tmp_path / "mtc"
    made = subprocess.run(
        [*ventanilla(), "adapter", "new", "mtc", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    env = env_with(pip_install(out, tmp_path / "site"))
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=out,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout

    catalog = subprocess.run(
        [
            sys.executable,
            "-c",
            "from schemas.procedures import catalog; print(sorted(catalog()))",
        ],
        capture_output=True,
        text=True,
        env={**env, "VENTANILLA_CATALOG_DIRS": str(out / "procedures")},
        timeout=60,
    )
    assert catalog.returncode == 0, catalog.stderr
    assert "'constancia-registro-mtc'" in catalog.stdout
