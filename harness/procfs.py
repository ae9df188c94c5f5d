"""Processes as /proc shows them: whose children they are, whether they live, their CPU time."""

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (in parentheses, may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children_of(parent: int) -> dict[int, str]:
    """pid → command line of the live children of `parent`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, ppid = _stat(entry.name)[:2]
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if int(ppid) == parent and state != "Z":
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode().strip()
    return found


def alive(pid: int) -> bool:
    """The process exists and is no zombie."""
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


def cpu_ticks(pid: int) -> int:
    """User and system CPU time of `pid` so far, in clock ticks (0 once it is gone)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime
