"""The operators' overview of the bus, from the NATS server itself: each entity's work queue,
every observed stream's level and the dead letters kept."""

from nats.aio.client import Client

from schemas import subjects
from schemas.entities import ENTITIES
from schemas.views import BusOverview, EntityQueue, StreamLevel

from .nats_calls import nats_errors, require_connection


async def bus_overview(nc: Client) -> BusOverview:
    require_connection(nc)
    js = nc.jetstream()
    with nats_errors():
        entities = []
        for entity in ENTITIES:
            info = await js.consumer_info(subjects.WORK_STREAM, subjects.adapter_consumer(entity))
            entities.append(
                EntityQueue(
                    entity=entity,
                    waiting=info.num_pending or 0,
                    in_hand=info.num_ack_pending or 0,
                    redelivered=info.num_redelivered or 0,
                )
            )
        levels = [
            StreamLevel(stream=name, messages=(await js.stream_info(name)).state.messages)
            for name in subjects.OBSERVED_STREAMS
        ]
    dead = {level.stream: level.messages for level in levels}[subjects.DEAD_LETTERS_STREAM]
    return BusOverview(entities=entities, streams=levels, dead_letters=dead)
