"""Heartbeats: each process says on the bus, every few seconds, that it is alive and when it last
did work, so an operator (`ventanilla status`, the metrics) tells a quiet adapter from a dead one.

Core NATS, fire and forget: a heartbeat that nobody hears is worth nothing a moment later, so
nothing stores it, and a missed one only makes the process look late until the next.
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
# A process is taken for down after this many heartbeats missed in a row.
MISSED_BEFORE_DOWN = 3


class Activity:
    """What the process's handlers report: one call per message handled."""

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
    while not stop.is_set():
        beat = Heartbeat(
            process=process,
            sent_at=datetime.now(UTC),
            started_at=activity.started_at,
            last_activity_at=activity.last_at,
            handled=activity.handled,
            interval_s=every,
        )
        try:
            await nc.publish(subject, beat.model_dump_json().encode())
        except Exception as exc:  # reconnecting: the next one will do
            log.debug("heartbeat not sent", error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


def is_up(beat: Heartbeat | None, now: datetime) -> bool:
    if beat is None:
        return False
    return (now - beat.sent_at).total_seconds() <= beat.interval_s * MISSED_BEFORE_DOWN
