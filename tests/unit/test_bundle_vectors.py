"""The committed test vectors (tests/vectors/): each file reaches the verdict its manifest names.

The same files are what an outside verifier written from docs/bundle-format.md is checked
against; here they check the project's own verifier, in process and as the standalone script.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from services.case_ledger.audit.bundle_check import verify_bundle
from services.case_ledger.audit.keys import parse_trusted_keys

VECTORS = Path(__file__).parents[1] / "vectors"
MANIFEST: list[dict[str, Any]] = json.loads((VECTORS / "manifest.json").read_text())


def test_the_manifest_covers_every_vector_and_every_verdict() -> None:
    listed = {entry["file"] for entry in MANIFEST}
    assert listed == {p.name for p in VECTORS.glob("*.bundle.json")}
    verdicts = {entry["verdict"] for entry in MANIFEST}
    assert verdicts == {"verified", "malformed", "untrusted", "forged", "tampered", "incomplete"}


@pytest.mark.parametrize("entry", MANIFEST, ids=[f"{e['file']}-{e['keys']}" for e in MANIFEST])
def test_each_vector_reaches_its_verdict(entry: dict[str, Any]) -> None:
    keys = parse_trusted_keys([str(VECTORS / entry["keys"])])
    report = verify_bundle((VECTORS / entry["file"]).read_bytes(), keys)
    assert report.verdict == entry["verdict"], (entry["what"], [str(p) for p in report.problems])


def test_the_standalone_verifier_agrees_on_a_genuine_and_a_cut_bundle() -> None:
    root = Path(__file__).parents[2]
    for name, code, said in (
        ("genuine.bundle.json", 0, "OK case"),
        ("truncated-tail.bundle.json", 1, "FAIL incomplete"),
        ("duplicate-key.bundle.json", 1, "FAIL malformed"),
    ):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "services.case_ledger.audit.bundle_check",
                str(VECTORS / name),
                "--public-key",
                str(VECTORS / "public-key.txt"),
            ],
            capture_output=True,
            text=True,
            cwd=root,
            check=False,
        )
        assert result.returncode == code, result.stdout + result.stderr
        assert said in result.stdout
