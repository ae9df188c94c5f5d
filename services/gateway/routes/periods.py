"""The period of an operator's report, as the query string gives it (`from`, `to`)."""

from datetime import UTC, datetime, timedelta

from ..problems import InvalidRequest


def utc_period(
    start: datetime, end: datetime, longest: timedelta | None = None
) -> tuple[datetime, datetime]:
    """`start` and `end` in UTC (a moment without a zone is taken as UTC), `end` after `start`,
    at most `longest` apart; else the request is invalid."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise InvalidRequest("`to` must come after `from`.")
    if longest is not None and end - start > longest:
        raise InvalidRequest(f"The period may span at most {longest.days} days.")
    return start, end


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
