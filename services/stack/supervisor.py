"""Keeping a local stack's processes running: restart what dies, stop everything in order.

A process that exits without being asked to is started again after a pause that doubles
with each quick death (1 s, 2 s, 4 s ... 30 s) and falls back to 1 s once the process had
stayed up for a minute, so a crash loop does not spin and a rare crash heals fast.

A process that cannot start is reported as failing, not merely restarted: one that exits with
`EX_CONFIG` (it refuses to run on what it found, and says why in its log) at once, any other
after three deaths in a row that never stayed up a minute. It is still restarted (someone may
fix what it needs), and it counts as failing until it has stayed up for 10 s.

The supervisor is driven by its owner's loop (`tick()`), runs no thread of its own and reads
the time through an injected clock, so its decisions can be tested with real short-lived
processes and no waiting.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol


class Supervised(Protocol):
    """Something that runs as an operating-system process and can be started again."""

    @property
    def name(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None:
        """Start the process; raises when it cannot be started."""

    def exit_code(self) -> int | None:
        """None while the process runs."""

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM)."""

    def kill(self) -> None:
        """Stop the process now (SIGKILL)."""


@dataclass(frozen=True)
class Backoff:
    initial: float = 1.0
    maximum: float = 30.0
    reset_after: float = 60.0

    def next_delay(self, previous: float | None, uptime: float) -> float:
        """The pause before restarting a process that died after `uptime` seconds."""
        if previous is None or uptime >= self.reset_after:
            return self.initial
        return min(previous * 2, self.maximum)


EventKind = Literal["started", "exited", "start-failed", "stopping", "killed", "stopped"]


@dataclass(frozen=True)
class SupervisorEvent:
    kind: EventKind
    name: str
    pid: int | None = None
    exit_code: int | None = None
    restart_in: float | None = None
    detail: str | None = None
    failing: bool = False


# Deaths in a row, each before the process stayed up `Backoff.reset_after`, that make it failing.
FAILING_AFTER = 3
# A failing process that has stayed up this long is failing no more (a process that refuses its
# configuration, or dies at start-up, does so within a few seconds).
HEALED_AFTER = 10.0


@dataclass
class _Watch:
    process: Supervised
    layer: int
    started_at: float | None = None
    delay: float | None = None
    restart_at: float | None = None
    restarts: int = 0
    quick_deaths: int = 0
    refused: bool = False

    @property
    def failing(self) -> bool:
        return self.refused or self.quick_deaths >= FAILING_AFTER


class Supervisor:
    def __init__(
        self,
        backoff: Backoff | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_event: Callable[[SupervisorEvent], None] = lambda event: None,
    ) -> None:
        self.backoff = backoff or Backoff()
        self._clock = clock
        self._sleep = sleep
        self._emit = on_event
        self._watches: list[_Watch] = []
        self._stopping = False

    def launch(self, process: Supervised, *, layer: int = 0) -> None:
        """Start a process and watch it from now on; a first start that fails raises.

        Layers say who depends on whom: `stop()` stops higher layers first, so the bus
        (layer 0) outlives the services that talk to it (layer 1).
        """
        watch = _Watch(process, layer)
        self._watches.append(watch)
        self._start(watch, first=True)

    def restarts(self, name: str) -> int:
        return sum(w.restarts for w in self._watches if w.process.name == name)

    def failing(self) -> list[str]:
        """The processes that cannot start or keep dying young (see the module docstring)."""
        now = self._clock()
        for watch in self._watches:
            started = watch.started_at
            if started is not None and now - started >= HEALED_AFTER:
                watch.quick_deaths, watch.refused = 0, False  # it stayed up: healed
        return [w.process.name for w in self._watches if w.failing]

    def tick(self) -> None:
        """Notice what died since the last tick and restart what is due."""
        if self._stopping:
            return
        now = self._clock()
        for watch in self._watches:
            if watch.restart_at is None:
                self._check(watch, now)
            elif now >= watch.restart_at:
                watch.restarts += 1
                self._start(watch, first=False)

    def _check(self, watch: _Watch, now: float) -> None:
        code = watch.process.exit_code()
        if code is None:
            return
        uptime = now - (watch.started_at if watch.started_at is not None else now)
        young = uptime < self.backoff.reset_after
        watch.quick_deaths = watch.quick_deaths + 1 if young else 0
        watch.refused = code == os.EX_CONFIG
        self._schedule(watch, now, uptime)
        self._emit(
            SupervisorEvent(
                "exited",
                watch.process.name,
                pid=watch.process.pid,
                exit_code=code,
                restart_in=watch.delay,
                failing=watch.failing,
            )
        )

    def _schedule(self, watch: _Watch, now: float, uptime: float) -> None:
        watch.delay = self.backoff.next_delay(watch.delay, uptime)
        watch.restart_at = now + watch.delay
        watch.started_at = None

    def _start(self, watch: _Watch, *, first: bool) -> None:
        try:
            watch.process.start()
        except Exception as exc:
            if first:
                raise
            now = self._clock()
            watch.quick_deaths += 1
            self._schedule(watch, now, uptime=0.0)
            self._emit(
                SupervisorEvent(
                    "start-failed",
                    watch.process.name,
                    restart_in=watch.delay,
                    detail=f"{type(exc).__name__}: {exc}",
                    failing=watch.failing,
                )
            )
            return
        watch.started_at = self._clock()
        watch.restart_at = None
        self._emit(SupervisorEvent("started", watch.process.name, pid=watch.process.pid))

    def stop(self, grace: float = 10.0) -> None:
        """Stop every process, highest layer first: SIGTERM, up to `grace` s, then SIGKILL."""
        self._stopping = True
        for layer in sorted({w.layer for w in self._watches}, reverse=True):
            self._stop_layer([w for w in self._watches if w.layer == layer], grace)

    def _stop_layer(self, watches: list[_Watch], grace: float) -> None:
        running = [w.process for w in watches if w.process.exit_code() is None]
        for process in running:
            self._emit(SupervisorEvent("stopping", process.name, pid=process.pid))
            process.terminate()
        deadline = self._clock() + grace
        while any(p.exit_code() is None for p in running) and self._clock() < deadline:
            self._sleep(0.05)
        for process in running:
            if process.exit_code() is None:
                self._emit(SupervisorEvent("killed", process.name, pid=process.pid))
                process.kill()
            code = process.exit_code()
            self._emit(SupervisorEvent("stopped", process.name, pid=process.pid, exit_code=code))
