"""The status read model: each case's status and steps (a `CaseView`) in JetStream KV.

A projection of the ledger's notification log, tracked like any consumer (its own position,
`status-views`). It gives three guarantees:

- never ahead of the ledger, never behind what it read: a view is read from committed state
  only, after the events that changed it were saved, and at least at the version of the last
  of those events (the ledger's cache of cases lags its store for a moment after a commit);
- never backwards: a key is written only over an older version of the case, with the key's
  revision as the precondition (KV `update(..., last=rev)`), so a late or repeated write (a
  restarted ledger replaying, two ledgers by mistake) is refused by the server, not by luck;
- caught up after a crash: the position is saved only after the views of every case up to it
  are in the bucket, so a restarted ledger rewrites what it may have missed; a view already
  there is left alone. On its first start it reads the whole log: every case gets its view.

Views are snapshots: a case that changed three times in one round is written once, at its last
version. The position is saved at most once a second while cases move, and as soon as they stop (a
replay costs reads, never a wrong view).
"""

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

import structlog
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import BaseModel, ConfigDict

from schemas import subjects
from schemas.views import CaseView
from services.errors import CaseNotFound

from .application import CaseLedger
from .rounds import keep_following
from .writer import LedgerThread

log = structlog.get_logger(__name__)

SOURCE = "status-views"
# What this process remembers of the keys it wrote, to skip the read before each update.
REMEMBERED_KEYS = 100_000
# Rounds of "someone else wrote the key first: read it, compare, try again".
CONFLICT_ATTEMPTS = 5


@dataclass(frozen=True)
class Stored:
    """A key as it stands in the bucket: the case version it holds and the key's revision."""

    version: int
    revision: int


class _VersionOnly(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int


class StatusViews:
    def __init__(
        self,
        ledger: CaseLedger,
        reader: LedgerThread,
        writer: LedgerThread,
        js: JetStreamContext,
        *,
        batch: int = 1000,
        save_position_every: float = 1.0,
    ) -> None:
        """`reader` reads the log and the cases (off the writer's thread); `writer` saves the
        position, since the ledger's store has one writing thread."""
        self.ledger = ledger
        self.reader = reader
        self.writer = writer
        self.js = js
        self.batch = batch
        self.save_position_every = save_position_every
        self.wake = asyncio.Event()
        self._kv: KeyValue | None = None
        self._position: int | None = None
        self._saved_position = 0
        self._saved_at = 0.0
        self._stored: OrderedDict[UUID, Stored] = OrderedDict()

    def notify(self) -> None:
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        def failed(exc: Exception) -> None:
            log.warning("status views not written", error=repr(exc))

        # Idle, the position is saved: nothing to replay after a restart.
        await keep_following(
            self.catch_up, self.batch, self.wake, stop, failed, idle=self.save_position
        )

    async def catch_up(self) -> int:
        """One round: the views of the cases changed after the position; how many log entries."""
        if self._position is None:
            self._position = self._saved_position = await self.reader.run(
                self.ledger.position, SOURCE
            )
        position, views, last = await self.reader.run(self._changed_since, self._position)
        if not position:
            return 0
        await asyncio.gather(*(self.put(view) for view in views))
        self._position = last
        await self._save_position()
        return position

    async def put(self, view: CaseView) -> bool:
        """Write the view unless the bucket holds this version or a newer one; True if written."""
        kv = await self._bucket()
        key = subjects.case_status_key(view.case_id)
        data = view.model_dump_json().encode()
        stored = self._stored.get(view.case_id)
        for _ in range(CONFLICT_ATTEMPTS):
            if stored is not None and stored.version >= view.version:
                return False
            try:
                if stored is None:
                    revision = await kv.create(key, data)
                else:
                    revision = await kv.update(key, data, last=stored.revision)
            except KeyWrongLastSequenceError:
                stored = await self.stored(view.case_id)  # written meanwhile: compare again
                continue
            self._remember(view.case_id, Stored(view.version, revision))
            return True
        raise RuntimeError(f"the status of case {view.case_id} kept changing under us")

    async def stored(self, case_id: UUID) -> Stored | None:
        """The key as the bucket holds it now (None when absent or deleted)."""
        kv = await self._bucket()
        try:
            entry = await kv.get(subjects.case_status_key(case_id))
        except KeyNotFoundError:
            return None
        version = _VersionOnly.model_validate_json(entry.value or b"").version
        found = Stored(version, entry.revision or 0)
        self._remember(case_id, found)
        return found

    def _changed_since(self, position: int) -> tuple[int, list[CaseView], int]:
        """On the reader's thread: (log entries read, the current view of each case they
        touched, the last position read)."""
        notifications = self.ledger.notifications_after(position, self.batch)
        if not notifications:
            return 0, [], position
        # Each case at the last version read here at least: the view must show those events.
        versions = {_uuid(n.originator_id): n.originator_version for n in notifications}
        views = []
        for case_id, version in versions.items():
            try:
                views.append(self.ledger.recorded_view(case_id, version))
            except CaseNotFound:
                continue  # not a case (no other aggregate is stored today)
        return len(notifications), views, notifications[-1].id

    async def save_position(self) -> None:
        """Save the position now (on the way out), not at the next once-a-second chance."""
        await self._save_position(force=True)

    async def _save_position(self, *, force: bool = False) -> None:
        position = self._position
        if position is None or position <= self._saved_position:
            return
        now = time.monotonic()
        if not force and now - self._saved_at < self.save_position_every:
            return
        await self.writer.run(self.ledger.advance_position, SOURCE, position)
        self._saved_position, self._saved_at = position, now

    def _remember(self, case_id: UUID, stored: Stored) -> None:
        self._stored[case_id] = stored
        self._stored.move_to_end(case_id)
        while len(self._stored) > REMEMBERED_KEYS:
            self._stored.popitem(last=False)

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            self._kv = await self.js.key_value(subjects.STATUS_BUCKET)
        return self._kv


def _uuid(originator_id: UUID | str) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
