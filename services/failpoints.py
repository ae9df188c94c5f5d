"""Named crash points for fault-injection tests.

`VENTANILLA_FAILPOINTS="ledger.after-save=3"` makes the process die abruptly (as with SIGKILL)
the third time it passes `failpoint("ledger.after-save")`. Unset, a failpoint costs a dict lookup.

A supervised process inherits the same environment on every restart, so it would die again
and again; with `VENTANILLA_FAILPOINTS_ONCE=<file>` a failpoint fires only in the first process
that reaches it, which leaves the file behind, and no process started after that arms it.
"""

import os
from functools import cache
from pathlib import Path

EXIT_CODE = 86


@cache
def _armed() -> dict[str, int]:
    spec = os.environ.get("VENTANILLA_FAILPOINTS", "")
    once = os.environ.get("VENTANILLA_FAILPOINTS_ONCE")
    if once and Path(once).exists():
        return {}
    armed: dict[str, int] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, hits = item.partition("=")
        armed[name] = int(hits or "1")
    return armed


_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    limit = _armed().get(name)
    if limit is None:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= limit:
        once = os.environ.get("VENTANILLA_FAILPOINTS_ONCE")
        if once:
            Path(once).write_text(f"{name}\n")
        os._exit(EXIT_CODE)
