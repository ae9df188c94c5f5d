"""Hand-written fakes of our own interfaces, shared by the tests that need them."""

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

from schemas.views import CaseView

FINAL = ("completed", "rejected")


class FakeStatusFeed:
    """A CaseStatusFeed whose views the test records, and which followers see at once."""

    def __init__(self) -> None:
        self.views: dict[UUID, CaseView] = {}
        self._followers: dict[UUID, list[asyncio.Queue[CaseView]]] = {}

    def record(self, view: CaseView) -> None:
        if view.case_id in self.views and self.views[view.case_id].version >= view.version:
            return  # as the read model: versions only grow
        self.views[view.case_id] = view
        for queue in self._followers.get(view.case_id, []):
            queue.put_nowait(view)

    async def current(self, case_id: UUID) -> CaseView | None:
        return self.views.get(case_id)

    async def updates(self, case_id: UUID) -> AsyncIterator[CaseView]:
        queue: asyncio.Queue[CaseView] = asyncio.Queue()
        self._followers.setdefault(case_id, []).append(queue)
        try:
            view = self.views.get(case_id)
            last = -1
            if view is not None:
                last = view.version
                yield view
                if view.status in FINAL:
                    return
            while True:
                view = await queue.get()
                if view.version <= last:
                    continue
                last = view.version
                yield view
                if view.status in FINAL:
                    return
        finally:
            self._followers[case_id].remove(queue)
