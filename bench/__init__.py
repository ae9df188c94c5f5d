"""The benchmark suite (see __main__.py) and what its single-part scripts share."""

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"


def record(figures: dict[str, Any], out: Path = RESULTS / "latest.json") -> None:
    """Put a script's figures into the latest results, keeping the other figures there."""
    found = json.loads(out.read_text()) if out.exists() else {}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**found, **figures}, indent=2) + "\n")
