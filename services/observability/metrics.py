"""The bus's Prometheus metrics, one endpoint for all of it.

Why one endpoint rather than one per process: the figures an operator needs are facts of the
ledger and of the bus, not of a process. A counter kept in an adapter's memory restarts at zero
with it and counts a redelivered request twice; the ledger's projection (see
`case_ledger.projections`) counts each case and step exactly once, whatever restarted, and
JetStream itself knows each queue's lag. So the exporter asks them at each scrape, and the
processes' liveness comes from their heartbeats. Every series is listed in docs/operations.md.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from schemas.catalog import ProcedureSpec
from services.bus.heartbeats import is_up
from services.case_ledger.projections.sla import is_breach
from services.case_ledger.projections.sla_rows import StepRow

from .bus_state import BusState

# Seconds; an entity's answers take from milliseconds (a registry look-up) to the ANS's minutes.
STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


@dataclass(frozen=True)
class Snapshot:
    """Everything one scrape reports, read together."""

    case_counts: list[tuple[str, str, str, int]]
    steps: list[StepRow]
    bus: BusState


class BusCollector(Collector):
    def __init__(self, catalog: Mapping[str, ProcedureSpec], take: Callable[[], Snapshot]) -> None:
        self.catalog = catalog
        self.take = take

    def collect(self) -> Iterable[Metric]:
        snapshot = self.take()
        now = datetime.now(UTC)
        yield from case_metrics(snapshot.case_counts)
        yield from step_metrics(snapshot.steps, self.catalog, now)
        yield from bus_metrics(snapshot.bus, now)


def case_metrics(counts: list[tuple[str, str, str, int]]) -> Iterable[Metric]:
    labels = ["procedure", "channel"]
    submitted = CounterMetricFamily(
        "ventanilla_cases_submitted", "Cases the ledger opened.", labels=labels
    )
    completed = CounterMetricFamily(
        "ventanilla_cases_completed", "Cases that ended completed.", labels=labels
    )
    rejected = CounterMetricFamily(
        "ventanilla_cases_rejected", "Cases that ended rejected.", labels=labels
    )
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for procedure, channel, status, n in counts:
        totals[(procedure, channel)][status] += n
    for (procedure, channel), by_status in sorted(totals.items()):
        values = [procedure, channel]
        submitted.add_metric(values, sum(by_status.values()))
        completed.add_metric(values, by_status["completed"])
        rejected.add_metric(values, by_status["rejected"])
    return [submitted, completed, rejected]


def step_metrics(
    steps: list[StepRow], catalog: Mapping[str, ProcedureSpec], now: datetime
) -> Iterable[Metric]:
    duration = HistogramMetricFamily(
        "ventanilla_step_duration_seconds",
        "From a step's first dispatch to its final answer, across retries.",
        labels=["entity", "service", "outcome"],
    )
    attempts = CounterMetricFamily(
        "ventanilla_step_attempts", "Attempts dispatched to entities.", labels=["entity", "service"]
    )
    retries = CounterMetricFamily(
        "ventanilla_step_retries",
        "Attempts beyond a step's first (after a failure or a passed deadline).",
        labels=["entity", "service"],
    )
    breaches = CounterMetricFamily(
        "ventanilla_ans_breaches",
        "Steps answered after their ANS deadline, or still unanswered past it.",
        labels=["entity", "service"],
    )
    observed: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    tried: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in steps:
        key = (row.entity, row.service)
        counts = tried[key]
        counts[0] += row.attempts
        counts[1] += row.attempts - 1
        proc = catalog.get(row.procedure)
        if proc is not None and is_breach(row, now):  # the deadline the step was dispatched with
            counts[2] += 1
        if row.finished_at is not None and row.outcome is not None:
            taken = (row.finished_at - row.dispatched_at).total_seconds()
            observed[(row.entity, row.service, row.outcome)].append(taken)
    for labels, values in sorted(observed.items()):
        buckets = [(str(b), float(sum(v <= b for v in values))) for b in STEP_BUCKETS]
        buckets.append(("+Inf", float(len(values))))
        duration.add_metric(list(labels), buckets, sum_value=sum(values))
    for (entity, service), (n_attempts, n_retries, n_breaches) in sorted(tried.items()):
        attempts.add_metric([entity, service], n_attempts)
        retries.add_metric([entity, service], n_retries)
        breaches.add_metric([entity, service], n_breaches)
    return [duration, attempts, retries, breaches]


def bus_metrics(state: BusState, now: datetime) -> Iterable[Metric]:
    lag = GaugeMetricFamily(
        "ventanilla_consumer_lag_messages",
        "Requests on an entity's queue not yet delivered to its adapter.",
        labels=["entity"],
    )
    in_hand = GaugeMetricFamily(
        "ventanilla_consumer_in_hand_messages",
        "Requests delivered to an entity's adapter and not yet answered.",
        labels=["entity"],
    )
    redelivered = GaugeMetricFamily(
        "ventanilla_consumer_redelivered_messages",
        "Requests in hand that were delivered more than once.",
        labels=["entity"],
    )
    oldest = GaugeMetricFamily(
        "ventanilla_consumer_oldest_pending_age_seconds",
        "Age of the oldest request waiting or in hand (0: none).",
        labels=["entity"],
    )
    for e in state.lags:
        lag.add_metric([e.entity], e.waiting)
        in_hand.add_metric([e.entity], e.in_hand)
        redelivered.add_metric([e.entity], e.redelivered)
        oldest.add_metric([e.entity], e.oldest_pending_age_s)
    dead = GaugeMetricFamily(
        "ventanilla_dead_letters",
        "Messages set aside with a reason, by who gave up on them.",
        labels=["source"],
    )
    for source, n in sorted(state.dead_letters.items()):
        dead.add_metric([source], n)
    up = GaugeMetricFamily(
        "ventanilla_process_up",
        "1 while the process's heartbeats arrive on time.",
        labels=["process"],
    )
    heartbeat = GaugeMetricFamily(
        "ventanilla_process_last_heartbeat_timestamp_seconds",
        "When the process's latest heartbeat was sent (Unix time).",
        labels=["process"],
    )
    activity = GaugeMetricFamily(
        "ventanilla_process_last_activity_timestamp_seconds",
        "When the process last handled a message (Unix time; absent: not since it started).",
        labels=["process"],
    )
    for process, beat in sorted(state.heartbeats.items()):
        up.add_metric([process], 1.0 if is_up(beat, now) else 0.0)
        heartbeat.add_metric([process], beat.sent_at.timestamp())
        if beat.last_activity_at is not None:
            activity.add_metric([process], beat.last_activity_at.timestamp())
    return [lag, in_hand, redelivered, oldest, dead, up, heartbeat, activity]
