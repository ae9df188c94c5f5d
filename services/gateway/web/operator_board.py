"""What the operator's pages show, put together from the bus's answers (no I/O here).

Each entity's health card joins: its adapter's heartbeat (up or down, last activity), its queue
on the work stream (waiting, in hand, redelivered), the oldest step it has not answered yet and
its dead letters (the indicators), and its ANS percentage this week (the ANS report). The MAC
Express sites' table shows each site's link as the API's overview and `ventanilla sites` do.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import get_args

from schemas.heartbeats import Heartbeat
from schemas.indicators import IndicatorsReport, StepStanding
from schemas.sites import SiteLink
from schemas.sla import SlaReport
from schemas.views import BusOverview
from services.bus.heartbeats import is_up

from .console import LIMA

STANDINGS: tuple[StepStanding, ...] = get_args(StepStanding)


@dataclass(frozen=True)
class HealthCard:
    entity: str
    up: bool
    last_activity_at: datetime | None
    waiting: int | None
    in_hand: int | None
    redelivered: int | None
    oldest_open_s: float | None  # None: nothing unanswered
    dead_letters: int | None
    ans_pct: float | None  # None: no step this week

    @property
    def needs_attention(self) -> bool:
        return (
            not self.up
            or bool(self.dead_letters)
            or (self.ans_pct is not None and self.ans_pct < 100)
        )


def week_start(now: datetime) -> datetime:
    """Monday 00:00 in Lima: the operators' week."""
    local = now.astimezone(LIMA)
    monday = (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return monday


def health_cards(
    entities: list[str],
    overview: BusOverview | None,
    indicators: IndicatorsReport,
    week: SlaReport,
    heartbeats: dict[str, Heartbeat],
    now: datetime,
) -> list[HealthCard]:
    queues = {q.entity: q for q in (overview.entities if overview else [])}
    figures = {e.entity: e for e in indicators.entities}
    steps: dict[str, int] = defaultdict(int)
    within: dict[str, int] = defaultdict(int)
    for line in week.lines:
        steps[line.entity] += line.steps
        within[line.entity] += line.within_deadline
    cards = []
    for entity in entities:
        beat = heartbeats.get(entity)
        queue = queues.get(entity)
        fig = figures.get(entity)
        oldest = fig.oldest_open_since if fig else None
        cards.append(
            HealthCard(
                entity=entity,
                up=is_up(beat, now),
                last_activity_at=beat.last_activity_at if beat else None,
                waiting=queue.waiting if queue else None,
                in_hand=queue.in_hand if queue else None,
                redelivered=queue.redelivered if queue else None,
                oldest_open_s=None if oldest is None else (now - oldest).total_seconds(),
                dead_letters=fig.dead_letters if fig else 0,
                ans_pct=(
                    round(100.0 * within[entity] / steps[entity], 1) if steps[entity] else None
                ),
            )
        )
    return cards


@dataclass(frozen=True)
class TrafficDay:
    day: date
    counts: dict[str, int]  # outcome -> steps

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def traffic(
    report: IndicatorsReport,
    days: list[date],
    entity: str = "",
    procedure: str = "",
    outcome: str = "",
) -> list[TrafficDay]:
    """Steps per day and outcome, filtered; every day of `days` present, empty ones too."""
    counts: dict[date, dict[str, int]] = {d: dict.fromkeys(STANDINGS, 0) for d in days}
    for row in report.step_days:
        if entity and row.entity != entity:
            continue
        if procedure and row.procedure != procedure:
            continue
        if outcome and row.outcome != outcome:
            continue
        if row.day in counts:
            counts[row.day][row.outcome] += row.steps
    return [TrafficDay(d, counts[d]) for d in days]


@dataclass(frozen=True)
class SitesBoard:
    """The MAC Express sites' table, with its totals for the line above it."""

    sites: tuple[SiteLink, ...]

    @property
    def down(self) -> int:
        return sum(1 for link in self.sites if not link.connected)

    @property
    def backlog(self) -> int:
        return sum(link.backlog for link in self.sites)


def sites_board(links: Iterable[SiteLink]) -> SitesBoard:
    """Sites whose link is down first (what an operator looks into), then by id: among hundreds
    of Tambos the few cut off are on top, and a site keeps its place while its state holds."""
    return SitesBoard(tuple(sorted(links, key=lambda link: (link.connected, link.site))))
