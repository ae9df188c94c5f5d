"""Heartbeats: each process says on the bus, every few seconds, that it is alive and when it last
did work, so an operator (`ventanilla status`, the metrics) tells a quiet adapter from a dead one.

Core NATS, fire and forget: a heartbeat that nobody hears is worth nothing a moment later, so
nothing stores it, and a missed one only makes the process look late until the next.

A quiet process that handles a message beats again at once (within `RESUMED_CHECK_EVERY`), not
at its next interval: otherwise "last activity" read "none since it started" for up to
`HEARTBEAT_EVERY` seconds after the first case went through. Under steady work every beat
reports work, so the beats keep their interval.
"""

import asyncio
import contextlib
from datetime import UTC, datetime

import structlog
from nats.aio.client import Client

from schemas import subjects
from schemas.heartbeats import Heartbeat

log = structlog.get_logger(__name__)

HEARTBEAT_EVERY = 5.0  # seconds
# How often a quiet process looks whether it has worked since its last beat.
RESUMED_CHECK_EVERY = 0.25  # seconds
# A process is taken for down after this many heartbeats missed in a row.
MISSED_BEFORE_DOWN = 3


class Activity:
    """What the process's handlers report: one call per message handled (from any thread: the
    heartbeats only read these two values)."""

    def __init__(self) -> None:
        self.started_at = datetime.now(UTC)
        self.last_at: datetime | None = None
        self.handled = 0

    def touch(self) -> None:
        self.last_at = datetime.now(UTC)
        self.handled += 1


async def send_heartbeats(
    nc: Client,
    process: str,
    activity: Activity,
    stop: asyncio.Event,
    every: float = HEARTBEAT_EVERY,
) -> None:
    subject = subjects.heartbeat(process)
    handled_before = activity.handled
    while not stop.is_set():
        beat = Heartbeat(
            process=process,
            sent_at=datetime.now(UTC),
            started_at=activity.started_at,
            last_activity_at=activity.last_at,
            handled=activity.handled,
            interval_s=every,
        )
        quiet = beat.handled == handled_before  # no work since the beat before this one
        handled_before = beat.handled
        try:
            await nc.publish(subject, beat.model_dump_json().encode())
        except Exception as exc:  # reconnecting: the next one will do
            log.debug("heartbeat not sent", error=type(exc).__name__)
        await _until_next_beat(activity, stop, every, beat.handled if quiet else None)


async def _until_next_beat(
    activity: Activity, stop: asyncio.Event, every: float, quiet_at: int | None
) -> None:
    """`every` seconds, or less: until `stop`, or until a quiet process (`quiet_at`: what it had
    handled at its last beat) handles a message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + every
    while not stop.is_set():
        left = deadline - loop.time()
        if left <= 0 or (quiet_at is not None and activity.handled != quiet_at):
            return
        wait = left if quiet_at is None else min(left, RESUMED_CHECK_EVERY)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)


def is_up(beat: Heartbeat | None, now: datetime) -> bool:
    if beat is None:
        return False
    return (now - beat.sent_at).total_seconds() <= beat.interval_s * MISSED_BEFORE_DOWN
