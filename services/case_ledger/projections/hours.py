"""The hours the projections' aggregates are kept by, and how a period splits into them.

An aggregate row covers one UTC hour ('YYYY-MM-DDTHH'): an hour is a whole part of both a UTC
day (the indicators' days) and a Lima day (UTC-5 all year), so either is a sum of hours. A
period is read from the whole hours it covers, and from the rows themselves for the part of an
hour at either end.
"""

from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)


def hour_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def split(
    start: datetime, end: datetime
) -> tuple[tuple[str, str] | None, list[tuple[datetime, datetime]]]:
    """The whole hours of [start, end) as [first, last) keys (None if there are none), and the
    parts at the ends that are not whole hours."""
    first = _floor(start) if _floor(start) == start.astimezone(UTC) else _floor(start) + HOUR
    last = _floor(end)
    if first >= last:
        return None, [(start, end)] if start < end else []
    edges = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return (hour_key(first), hour_key(last)), edges
