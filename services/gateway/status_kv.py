"""The case status feed on the ledger's status bucket (JetStream KV): one watch per process.

The gateway follows the bucket with ONE ordered consumer, whatever the number of followers (the
pages and the SSE clients of every browser tab); each message is decoded only when someone
follows its case, and handed to that case's followers. A follower keeps only the newest view it
has not taken yet: views are whole snapshots, so a slow follower skips versions instead of
queueing them, and never sees one older than the last it got.

Not nats-py's `kv.watch()`: it starts with the last value of every key (every case there ever
was) and signals the end of those with a `None` entry; this watch wants only what changes from
now. And an ordered consumer may not come back after a server restart (nats.py#510): the watch
is recreated whenever the client reconnected or the consumer went missing, with a growing pause
while that fails, and every followed case is then read again, so nothing changed in the gap is
missed. (nats-py 2.16 did bring its ordered consumer back by itself in our restart test, after
two missed heartbeats, about 10 s; we neither rely on it nor wait for it.)
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from uuid import UUID

import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import KeyNotFoundError, NotFoundError
from nats.js.kv import KV_DEL, KV_OP, KV_PURGE, KeyValue
from pydantic import ValidationError

from schemas import subjects
from schemas.views import FINAL_STATUSES, CaseView

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


class _Follower:
    """One reader of one case: the newest view it has not taken yet."""

    def __init__(self) -> None:
        self.latest: CaseView | None = None
        self.changed = asyncio.Event()

    def offer(self, view: CaseView) -> None:
        if self.latest is None or view.version > self.latest.version:
            self.latest = view
            self.changed.set()


class KvCaseStatusFeed:
    """`CaseStatusFeed` on the status bucket. `start()` it once, `close()` it on the way out."""

    def __init__(
        self,
        nc: Client,
        *,
        check_every: float = 2.0,
        first_pause: float = 0.25,
        longest_pause: float = 10.0,
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.check_every = check_every
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self._followers: dict[UUID, set[_Follower]] = {}
        self._kv: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.watches_started = 0  # how many times the watch was (re)created: for operators, tests
        self.watching = asyncio.Event()  # set while a watch is in place

    @property
    def followers(self) -> int:
        return sum(len(f) for f in self._followers.values())

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._keep_watching(), name="case-status-watch")

    async def close(self) -> None:
        """Stop the watch and end every follower's iterator (their streams end with it)."""
        self._closed = True
        for followers in self._followers.values():
            for follower in followers:
                follower.changed.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def current(self, case_id: UUID) -> CaseView | None:
        return await read_view(await self._bucket(), case_id)

    async def updates(self, case_id: UUID) -> AsyncIterator[CaseView]:
        follower = _Follower()
        # Follow first, then read: a change written in between arrives through the watch.
        self._followers.setdefault(case_id, set()).add(follower)
        try:
            last = 0
            view = await self.current(case_id)
            if view is not None:
                last = view.version
                yield view
                if view.status in FINAL_STATUSES:
                    return
            while not self._closed:
                await follower.changed.wait()
                follower.changed.clear()
                view = follower.latest
                if view is None or view.version <= last:
                    continue
                last = view.version
                yield view
                if view.status in FINAL_STATUSES:
                    return
        finally:
            followers = self._followers.get(case_id)
            if followers is not None:
                followers.discard(follower)
                if not followers:
                    del self._followers[case_id]

    # --- the one watch ------------------------------------------------------------------

    async def _keep_watching(self) -> None:
        pause = self.first_pause
        while True:
            subscription = None
            try:
                reconnects = self.nc.stats["reconnects"]
                subscription = await self.js.subscribe(
                    f"{_KEY_SUBJECTS}>",
                    stream=subjects.kv_stream(subjects.STATUS_BUCKET),
                    cb=self._on_message,
                    ordered_consumer=True,
                    deliver_policy=DeliverPolicy.NEW,
                )
                self.watches_started += 1
                self.watching.set()
                await self._refresh_followed()
                pause = self.first_pause
                await self._until_broken(subscription, reconnects)
                log.info("case status watch lost, recreating it")
            except (nats.errors.Error, TimeoutError, OSError) as exc:
                log.warning("case status watch failed", error=type(exc).__name__, pause=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.longest_pause)
            finally:
                self.watching.clear()
                if subscription is not None:
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()

    async def _until_broken(
        self, subscription: JetStreamContext.PushSubscription, reconnects: int
    ) -> None:
        """Return when the watch may have stopped: a reconnect, or its consumer gone."""
        waited = 0.0
        while True:
            await asyncio.sleep(0.25)
            waited += 0.25
            if self.nc.stats["reconnects"] != reconnects:
                return
            if waited >= self.check_every and self.nc.is_connected:
                waited = 0.0
                try:
                    await subscription.consumer_info()
                except NotFoundError:
                    return
                except (nats.errors.Error, TimeoutError):
                    continue  # the server is busy or away: the reconnect count will tell

    async def _refresh_followed(self) -> None:
        """Read again every followed case: what changed while no watch was in place."""
        for case_id in list(self._followers):
            view = await self.current(case_id)
            if view is not None:
                self._deliver(case_id, view)

    async def _on_message(self, msg: Msg) -> None:
        try:
            case_id = UUID(hex=msg.subject[len(_KEY_SUBJECTS) :])
        except ValueError:
            return  # not a case key
        if case_id not in self._followers:
            return  # nobody follows this case here: not even decoded
        if msg.headers and msg.headers.get(KV_OP) in (KV_DEL, KV_PURGE):
            return
        try:
            view = CaseView.model_validate_json(msg.data)
        except ValidationError:
            log.error("unreadable case status in the bucket", case_id=str(case_id))
            return
        self._deliver(case_id, view)

    def _deliver(self, case_id: UUID, view: CaseView) -> None:
        for follower in self._followers.get(case_id, ()):
            follower.offer(view)

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            self._kv = await self.js.key_value(subjects.STATUS_BUCKET)
        return self._kv
