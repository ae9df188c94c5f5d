"""A case status feed on one JetStream stream: one watch per process, fanned out to followers.

The gateway follows the stream with ONE ordered consumer, whatever the number of followers (the
pages and the SSE clients of every browser tab); each message is decoded only when someone
follows its case, and handed to that case's followers. A follower keeps only the newest view it
has not taken yet: views are whole snapshots, so a slow follower skips versions instead of
queueing them, and never sees one older than the last it got.

An ordered consumer may not come back after a server restart (nats.py#510): the watch is
recreated whenever the client reconnected or the consumer went missing, with a growing pause
while that fails, and every followed case is then read again, so nothing changed in the gap is
missed. (nats-py 2.16 did bring its ordered consumer back by itself in our restart test, after
two missed heartbeats, about 10 s; we neither rely on it nor wait for it.)

Two streams are watched this way: the hub's status bucket (status_kv.py) and a MAC Express
site's copy of the statuses the hub sends back to it (services/sites/site_status.py).
"""

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from uuid import UUID

import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError

from schemas.views import FINAL_STATUSES, CaseView

log = structlog.get_logger(__name__)


class _Follower:
    """One reader of one case: the newest view it has not taken yet."""

    def __init__(self) -> None:
        self.latest: CaseView | None = None
        self.changed = asyncio.Event()

    def offer(self, view: CaseView) -> None:
        if self.latest is None or view.version > self.latest.version:
            self.latest = view
            self.changed.set()


class WatchedStatusFeed(ABC):
    """`CaseStatusFeed` on a stream of whole case views. `start()` it once, `close()` it last.

    A subclass says which stream and subjects hold the views, how a subject names its case, and
    how to read a case's current view and decode a message.
    """

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
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.watches_started = 0  # how many times the watch was (re)created: for operators, tests
        self.watching = asyncio.Event()  # set while a watch is in place

    # --- what a subclass says -------------------------------------------------------------

    @property
    @abstractmethod
    def watched_stream(self) -> str:
        """The stream the views are in."""

    @property
    @abstractmethod
    def watched_subjects(self) -> str:
        """The subjects of the views in the stream (a wildcard)."""

    @abstractmethod
    def case_of(self, subject: str) -> UUID | None:
        """The case a message's subject is about, or None when it is about none."""

    @abstractmethod
    def decode(self, case_id: UUID, msg: Msg) -> CaseView | None:
        """The view a message carries, or None (a deletion, an unreadable value: logged)."""

    @abstractmethod
    async def current(self, case_id: UUID) -> CaseView | None:
        """The case's view as last recorded, or None."""

    # --- followers ------------------------------------------------------------------------

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

    async def updates(self, case_id: UUID) -> AsyncIterator[CaseView]:
        follower = _Follower()
        # Follow first, then read: a change written in between arrives through the watch.
        self._followers.setdefault(case_id, set()).add(follower)
        try:
            last = -1
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
                    self.watched_subjects,
                    stream=self.watched_stream,
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
        case_id = self.case_of(msg.subject)
        if case_id is None or case_id not in self._followers:
            return  # nobody follows this case here: not even decoded
        view = self.decode(case_id, msg)
        if view is not None:
            self._deliver(case_id, view)

    def _deliver(self, case_id: UUID, view: CaseView) -> None:
        for follower in self._followers.get(case_id, ()):
            follower.offer(view)
