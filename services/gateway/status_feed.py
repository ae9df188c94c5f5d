"""What the gateway's pages and the status API need to follow a case: its status, live.

The real feed reads the ledger's status read model (JetStream KV), with one KV watch per gateway
process fanned out to every follower (`status_kv.KvCaseStatusFeed`); unit tests use a
hand-written fake with the same behaviour.
"""

from collections.abc import AsyncIterator
from typing import Protocol
from uuid import UUID

from schemas.views import CaseView


class CaseStatusFeed(Protocol):
    async def current(self, case_id: UUID) -> CaseView | None:
        """The case's status and steps as last recorded, or None when there is no such case."""
        ...

    def updates(self, case_id: UUID) -> AsyncIterator[CaseView]:
        """The current view first (when there is one), then each newer version as it is recorded.

        Versions only grow: a follower never sees an older view after a newer one. The iterator
        ends when the case reaches a final status (completed or rejected) or the caller stops.

        Views are whole snapshots: a follower slower than the case may skip versions (it always
        gets the newest). The real feed also ends every iterator when it is closed (the gateway
        stopping), and may raise a NATS error while it reads the current view.
        """
        ...
