"""The interim CaseStatusFeed: it asks the ledger (through `CaseBus.case()`) every half second.

It exists only until the status read model lands: the ledger will keep each case's status in
JetStream KV and one KV watch per gateway process will feed every follower, replacing this
module. Until then each live page costs one ledger query per interval, which is fine for a
counter's handful of open pages and wrong for a thousand watchers.
"""

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

from schemas.views import CaseView
from services.errors import BusUnavailable

from .case_bus import CaseBus

FINAL_STATUSES = frozenset({"completed", "rejected"})


class PollingStatusFeed:
    def __init__(self, bus: CaseBus, interval: float = 0.5) -> None:
        self.bus = bus
        self.interval = interval

    async def current(self, case_id: UUID) -> CaseView | None:
        return await self.bus.case(case_id)

    async def updates(self, case_id: UUID) -> AsyncIterator[CaseView]:
        last = -1
        while True:
            try:
                view = await self.bus.case(case_id)
            except BusUnavailable:
                view = None  # the ledger is away for a moment: keep the follower, ask again
            if view is not None and view.version > last:
                last = view.version
                yield view
                if view.status in FINAL_STATUSES:
                    return
            await asyncio.sleep(self.interval)
