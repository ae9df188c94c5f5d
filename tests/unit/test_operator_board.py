"""The health cards, the traffic rows and the sites' table, from the answers the bus gives
(no I/O)."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from schemas.heartbeats import Heartbeat
from schemas.indicators import EntityFigures, IndicatorsReport, StepDay
from schemas.sites import SiteLink, site_channel
from schemas.sla import SlaBreach, SlaLineView, SlaReport
from schemas.views import BusOverview, EntityQueue
from services.gateway.web.operator_board import health_cards, sites_board, traffic, week_start

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # a Thursday, 10:00 in Lima


def report(**fields: object) -> IndicatorsReport:
    empty: dict[str, object] = {
        "channel_days": [],
        "procedures": [],
        "entities": [],
        "rejection_reasons": [],
    }
    return IndicatorsReport.model_validate(
        {"start": NOW - timedelta(days=7), "end": NOW, **empty, **fields}
    )


def line(entity: str, steps: int, within: int) -> SlaLineView:
    late = [SlaBreach(case_id=uuid4(), step_id="x", duration_s=None)] * (steps - within)
    return SlaLineView(
        entity=entity,
        service="s",
        procedure="p",
        deadline_s=900,
        steps=steps,
        within_deadline=within,
        within_deadline_pct=None,
        open=0,
        p50_s=None,
        p95_s=None,
        breaches=late,
    )


def test_a_card_joins_heartbeat_queue_oldest_step_letters_and_the_weeks_ans() -> None:
    beat = Heartbeat(
        process="sat",
        sent_at=NOW - timedelta(seconds=4),
        started_at=NOW,
        last_activity_at=NOW - timedelta(minutes=1),
        handled=3,
        interval_s=5,
    )
    stale = beat.model_copy(update={"process": "reniec", "sent_at": NOW - timedelta(seconds=16)})
    figures = [
        EntityFigures(
            entity="sat",
            attentions=4,
            completed=3,
            rejected=0,
            failed=0,
            retries=1,
            dead_letters=2,
            oldest_open_since=NOW - timedelta(seconds=90),
        ),
    ]
    week = SlaReport(
        start=week_start(NOW),
        end=NOW,
        lines=[line("sat", 3, 2), line("sat", 1, 1), line("reniec", 2, 2)],
    )
    overview = BusOverview(
        entities=[EntityQueue(entity="sat", waiting=5, in_hand=1, redelivered=1)],
        streams=[],
        dead_letters=2,
    )
    sat, reniec, sunat = health_cards(
        ["sat", "reniec", "sunat"],
        overview,
        report(entities=figures),
        week,
        {"sat": beat, "reniec": stale},
        NOW,
    )
    assert (sat.up, sat.last_activity_at) == (True, NOW - timedelta(minutes=1))
    assert (sat.waiting, sat.in_hand, sat.redelivered) == (5, 1, 1)
    assert (sat.oldest_open_s, sat.dead_letters, sat.ans_pct) == (90.0, 2, 75.0)
    assert sat.needs_attention
    assert (reniec.up, reniec.ans_pct, reniec.needs_attention) == (False, 100.0, True)
    assert (sunat.up, sunat.waiting, sunat.ans_pct, sunat.oldest_open_s) == (
        False,
        None,
        None,
        None,
    )


def test_the_week_starts_on_monday_in_lima() -> None:
    assert week_start(NOW) == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    # Sunday 23:30 in Lima is still the week before, though it is Monday in UTC.
    late_sunday = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)
    assert week_start(late_sunday) == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


def test_traffic_keeps_every_day_and_filters_entity_procedure_and_outcome() -> None:
    days = [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]
    rows = [
        StepDay(
            day=days[0],
            entity="sat",
            procedure="transferencia-vehicular",
            outcome="completed",
            steps=2,
        ),
        StepDay(
            day=days[2],
            entity="sat",
            procedure="transferencia-vehicular",
            outcome="rejected",
            steps=1,
        ),
        StepDay(day=days[2], entity="reniec", procedure="duplicado-dni", outcome="open", steps=4),
        StepDay(
            day=date(2026, 11, 1),
            entity="sat",
            procedure="transferencia-vehicular",
            outcome="completed",
            steps=9,
        ),  # outside the days shown
    ]
    everything = traffic(report(step_days=rows), days)
    assert [r.total for r in everything] == [2, 0, 5]
    assert everything[2].counts == {"completed": 0, "rejected": 1, "failed": 0, "open": 4}
    assert [r.total for r in traffic(report(step_days=rows), days, entity="sat")] == [2, 0, 1]
    only = traffic(report(step_days=rows), days, procedure="duplicado-dni", outcome="open")
    assert [r.total for r in only] == [0, 0, 4]


def link(site: str, connected: bool, backlog: int) -> SiteLink:
    return SiteLink(
        site=site,
        channel=site_channel(site),
        connected=connected,
        last_contact=NOW if connected else None,
        backlog=backlog,
        last_forward=None,
        forwarded=0,
    )


def test_the_sites_table_puts_cut_off_sites_first_and_totals_the_backlog() -> None:
    board = sites_board(
        [
            link("tambo-estrecho", connected=True, backlog=2),
            link("pias-putumayo", connected=False, backlog=12),
            link("pias-napo", connected=True, backlog=0),
            link("tambo-ancoraimes", connected=False, backlog=0),
        ]
    )
    assert [s.site for s in board.sites] == [
        "pias-putumayo",
        "tambo-ancoraimes",
        "pias-napo",
        "tambo-estrecho",
    ]
    assert (board.down, board.backlog) == (2, 14)
    assert (sites_board([]).sites, sites_board([]).down, sites_board([]).backlog) == ((), 0, 0)
