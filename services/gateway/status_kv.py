"""The case status feed on the ledger's status bucket (JetStream KV): one watch per process.

Not nats-py's `kv.watch()`: it starts with the last value of every key (every case there ever
was) and signals the end of those with a `None` entry; this watch wants only what changes from
now (status_watch.py: one ordered consumer on the bucket's stream, fanned out to followers).
"""

from uuid import UUID

import structlog
from nats.aio.msg import Msg
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KV_DEL, KV_OP, KV_PURGE, KeyValue
from pydantic import ValidationError

from schemas import subjects
from schemas.views import CaseView

from .status_watch import WatchedStatusFeed

log = structlog.get_logger(__name__)

_KEY_SUBJECTS = f"$KV.{subjects.STATUS_BUCKET}.{subjects.STATUS_KEY_PREFIX}"


async def read_view(kv: KeyValue, case_id: UUID) -> CaseView | None:
    """The case's view as the ledger last wrote it, or None when it wrote none (yet)."""
    try:
        entry = await kv.get(subjects.case_status_key(case_id))
    except KeyNotFoundError:
        return None
    try:
        return CaseView.model_validate_json(entry.value or b"")
    except ValidationError:
        log.error("unreadable case status in the bucket", case_id=str(case_id))
        return None


class KvCaseStatusFeed(WatchedStatusFeed):
    """`CaseStatusFeed` on the status bucket. `start()` it once, `close()` it on the way out."""

    _kv: KeyValue | None = None  # opened on the first read

    @property
    def watched_stream(self) -> str:
        return subjects.kv_stream(subjects.STATUS_BUCKET)

    @property
    def watched_subjects(self) -> str:
        return f"{_KEY_SUBJECTS}>"

    def case_of(self, subject: str) -> UUID | None:
        try:
            return UUID(hex=subject[len(_KEY_SUBJECTS) :])
        except ValueError:
            return None  # not a case key

    def decode(self, case_id: UUID, msg: Msg) -> CaseView | None:
        if msg.headers and msg.headers.get(KV_OP) in (KV_DEL, KV_PURGE):
            return None
        try:
            return CaseView.model_validate_json(msg.data)
        except ValidationError:
            log.error("unreadable case status in the bucket", case_id=str(case_id))
            return None

    async def current(self, case_id: UUID) -> CaseView | None:
        return await read_view(await self._bucket(), case_id)

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            self._kv = await self.js.key_value(subjects.STATUS_BUCKET)
        return self._kv
