"""The `ventanilla` command as a user runs it (from harness/, shared with bench/), packages
installed beside it, and the official AsyncAPI parser (tools/asyncapi) run on a document."""

import os
import subprocess
import sys
from pathlib import Path

from harness.polling import eventually as eventually
from harness.procfs import children_of as children_of
from harness.up import running_up as running_up
from harness.up import ventanilla as ventanilla

ASYNCAPI_TOOLS = Path(__file__).resolve().parent.parent / "tools" / "asyncapi"


def asyncapi_parser(document: Path) -> subprocess.CompletedProcess[str]:
    """`@asyncapi/parser` on `document`, offline; exit status 0 only without an error."""
    if not (ASYNCAPI_TOOLS / "node_modules" / "@asyncapi" / "parser").is_dir():
        raise AssertionError("the AsyncAPI parser is not installed: run `make asyncapi-parser`")
    return subprocess.run(
        ["node", str(ASYNCAPI_TOOLS / "validate.mjs"), str(document)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ASYNCAPI_TOOLS,
    )


def pip_install(source: Path, target: Path) -> Path:
    """Install a package into its own folder (`--target`: the project's venv stays untouched)."""
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"),
            *("--target", str(target), str(source)),
        ],
        check=True,
        capture_output=True,
    )
    return target


def env_with(*sites: Path) -> dict[str, str]:
    """The environment with packages installed by `pip_install` on PYTHONPATH."""
    path = os.pathsep.join([*map(str, sites), os.environ.get("PYTHONPATH", "")]).strip(os.pathsep)
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "200"}
