"""What the bus itself says about its work: each entity's queue, the dead letters by who filed
them, and the latest heartbeat of every process. Read with the bus owner's (or an operator's)
rights; nothing here reads a message body except a heartbeat's."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from pydantic import ValidationError

from schemas import subjects
from schemas.entities import ENTITIES
from schemas.heartbeats import Heartbeat


@dataclass(frozen=True)
class EntityLag:
    entity: str
    waiting: int  # not yet delivered to the adapter: the consumer's lag
    in_hand: int  # delivered, not yet acked
    redelivered: int
    oldest_pending_age_s: float  # 0 when nothing waits or is in hand


@dataclass(frozen=True)
class BusState:
    lags: list[EntityLag]
    dead_letters: dict[str, int]  # source (entity id or `ledger`) -> letters kept
    heartbeats: dict[str, Heartbeat]


@dataclass
class HeartbeatListener:
    """The latest heartbeat of each process, heard since `start`."""

    latest: dict[str, Heartbeat] = field(default_factory=dict)
    _sub: Subscription | None = None

    async def start(self, nc: Client) -> None:
        self._sub = await nc.subscribe(subjects.HEARTBEATS, cb=self._heard)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()

    async def _heard(self, msg: Msg) -> None:
        try:
            beat = Heartbeat.model_validate_json(msg.data)
        except ValidationError:
            return  # not ours to judge: the sender's subject is all we trust
        if msg.subject == subjects.heartbeat(beat.process):
            self.latest[beat.process] = beat


async def entity_lag(js: JetStreamContext, entity: str, now: datetime) -> EntityLag:
    info = await js.consumer_info(subjects.WORK_STREAM, subjects.adapter_consumer(entity))
    waiting, in_hand = info.num_pending or 0, info.num_ack_pending or 0
    age = 0.0
    if waiting or in_hand:
        floor = info.ack_floor.stream_seq if info.ack_floor and info.ack_floor.stream_seq else 0
        try:
            oldest = await js.get_msg(
                subjects.WORK_STREAM, seq=floor + 1, subject=subjects.work(entity, "*"), next=True
            )
        except Exception:  # taken or deleted meanwhile: nothing older is waiting
            oldest = None
        if oldest is not None and oldest.time is not None:
            age = max(0.0, (now - oldest.time).total_seconds())
    return EntityLag(entity, waiting, in_hand, info.num_redelivered or 0, age)


async def dead_letters_by_source(js: JetStreamContext) -> dict[str, int]:
    info = await js.stream_info(
        subjects.DEAD_LETTERS_STREAM, subjects_filter=subjects.DEAD_LETTERS_SUBJECTS
    )
    prefix = subjects.dead_letter("")
    return {s.removeprefix(prefix): n for s, n in (info.state.subjects or {}).items()}


async def bus_state(js: JetStreamContext, heartbeats: HeartbeatListener) -> BusState:
    now = datetime.now(UTC)
    lags = await asyncio.gather(*(entity_lag(js, e, now) for e in ENTITIES))
    return BusState(list(lags), await dead_letters_by_source(js), dict(heartbeats.latest))
