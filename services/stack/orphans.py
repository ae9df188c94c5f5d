"""Keeping a local stack's processes from outliving the command that started them.

`ventanilla up` stops its children in order on Ctrl-C or SIGTERM. Two things could still
leave a process behind, and both are handled where the process is spawned:
- a terminal's Ctrl-C reaches the whole foreground process group, so children would stop in
  no particular order (the bus before its clients): each child gets its own process group
  and only `up` decides when it stops;
- `up` itself may be killed outright (SIGKILL, OOM): on Linux each child asks the kernel for
  SIGTERM when its parent dies (PR_SET_PDEATHSIG).
"""

import ctypes
import signal
import sys
from functools import cache
from typing import Any

_PR_SET_PDEATHSIG = 1


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _terminate_with_parent() -> None:
    # Runs in the child between fork and exec: libc was loaded by the parent beforehand, so
    # this is a plain system call, no allocation, no lock.
    _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def supervised_popen_options() -> dict[str, Any]:
    """`subprocess.Popen` keyword arguments for a child that its supervisor alone may stop.

    Only for a parent with a single thread at spawn time (`preexec_fn` is unsafe otherwise),
    which is the case of `ventanilla up`'s supervision loop.
    """
    options: dict[str, Any] = {"process_group": 0}
    if sys.platform == "linux":
        _libc()
        options["preexec_fn"] = _terminate_with_parent
    return options
