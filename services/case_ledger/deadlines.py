"""The deadline watch: a step whose entity does not answer within its deadline (ANS) is retried.

It follows the ledger's notification log to learn which cases wait on an entity and when each
is due, and asks the ledger to expire what is overdue: the attempt is recorded as failed and the
planner dispatches a new one (same idempotency key for the back office) or, when the step's
attempts are spent, closes the case as rejected after undoing what was done.

The watch starts from the beginning of the log, so after a restart it knows every open case;
a late answer to an expired attempt is ignored by the case (it is no longer the current one).
"""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog

from schemas.event_types import FINAL_EVENTS, REQUESTING_EVENTS

from .application import CaseLedger
from .writer import LedgerThread

log = structlog.get_logger(__name__)


class DeadlineWatch:
    def __init__(
        self, ledger: CaseLedger, writer: LedgerThread, interval: float = 1.0, batch: int = 1000
    ) -> None:
        self.ledger = ledger
        self.writer = writer
        self.interval = interval
        self.batch = batch
        self.position = 0
        # When each open case must be looked at next (a step's deadline); None: at the next round.
        self.due: dict[UUID, datetime | None] = {}
        # No step of any procedure is due sooner than this after its dispatch, so a case that
        # was dispatched after the previous round need not be read before then.
        self.shortest_deadline: timedelta = min(
            (step.deadline for proc in ledger.catalog.values() for step in proc.steps),
            default=timedelta(0),
        )
        self.followed_at: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.follow_log()
                await self.expire_due(datetime.now(UTC))
            except Exception as exc:  # the store is busy or away: look again next round
                log.warning("deadline watch failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def follow_log(self) -> None:
        started = datetime.now(UTC)
        # What appears now was written after the previous round began: not due before this.
        # The first round reads the whole log, with dispatches of any age: look at them all.
        not_before = None if self.followed_at is None else self.followed_at + self.shortest_deadline
        while True:
            notifications = await self.writer.run(
                self.ledger.notifications_after, self.position, self.batch
            )
            for notification in notifications:
                event_type = notification.topic.rsplit(".", 1)[-1]
                case_id = UUID(str(notification.originator_id))
                if event_type in REQUESTING_EVENTS:  # the case waits on an entity
                    self._look_by(case_id, not_before)
                elif event_type in FINAL_EVENTS:  # the case waits on nothing
                    self.due.pop(case_id, None)
                self.position = notification.id
            if len(notifications) < self.batch:
                self.followed_at = started
                return

    def _look_by(self, case_id: UUID, moment: datetime | None) -> None:
        """Look at the case by `moment` (None: at the next round), or sooner if already due."""
        if case_id not in self.due:
            self.due[case_id] = moment
            return
        current = self.due[case_id]
        if current is not None and (moment is None or moment < current):
            self.due[case_id] = moment

    async def expire_due(self, now: datetime) -> None:
        for case_id, due in list(self.due.items()):
            if due is not None and due > now:
                continue
            next_due = await self.writer.run(self.ledger.expire_overdue, case_id, now)
            if next_due is None:
                self.due.pop(case_id, None)
            else:
                self.due[case_id] = next_due
