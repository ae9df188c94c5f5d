"""The ANS report's and the indicators' figures recomputed from case histories, by the rules
docs/operations.md states: what the integration tests compare the projections with."""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.event_types import EventType
from schemas.views import HistoryEntry
from services.case_ledger.projections.histogram import bucket_of, bucket_value

STEP_ENDINGS = {
    EventType.STEP_COMPLETED: "completed",
    EventType.STEP_REJECTED: "rejected",
    EventType.STEP_ATTEMPT_FAILED: "failed",
    EventType.STEP_OVERDUE: "failed",
}


def bucketed_percentile(values: list[float], q_percent: int) -> float | None:
    """The nearest-rank percentile of the values, reported as the middle of its bucket."""
    if not values:
        return None
    ordered = sorted(values)
    exact = ordered[max(1, math.ceil(q_percent * len(ordered) / 100)) - 1]
    return bucket_value(bucket_of(exact))


@dataclass
class StepStory:
    """One step of a case as its history tells it."""

    dispatched: dict[str, Any]  # the first StepDispatched's data
    dispatched_at: datetime
    finished_at: datetime | None = None  # its latest answer; None again on a new attempt
    outcome: str | None = None
    retries: int = 0
    overdue: bool = False


def step_stories(events: list[HistoryEntry]) -> dict[str, StepStory]:
    """Each dispatched step of a case, by step id (compensations have no dispatch: left out)."""
    stories: dict[str, StepStory] = {}
    for e in events:
        step_id = e.data.get("step_id")
        if e.type == EventType.STEP_DISPATCHED:
            if step_id in stories:
                story = stories[step_id]
                story.retries += 1
                story.finished_at = story.outcome = None
            else:
                stories[step_id] = StepStory(e.data, e.occurred_at)
        elif e.type in STEP_ENDINGS and step_id in stories:
            story = stories[step_id]
            story.finished_at, story.outcome = e.occurred_at, STEP_ENDINGS[e.type]
            story.overdue = story.overdue or e.type == EventType.STEP_OVERDUE
    return stories
