"""The JetStream streams, consumers and buckets of the bus, declared once and applied idempotently.

Only the bus owner applies it (`ventanilla up` before it starts any service, or an operator with
`ventanilla deploy topology`): the services' own bus users may not create or change streams or
consumers (services/bus/permissions.py). A service that starts before the topology exists waits
for it: the adapters retry binding to their consumer, the ledger retries its reads.
"""

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    SubjectTransform,
)
from nats.js.errors import BadRequestError, NotFoundError

from schemas import subjects
from schemas.entities import ENTITIES

DAY = 24 * 3600.0
# Publishers retry with the same Nats-Msg-Id; the server drops repeats within this window.
DUPLICATE_WINDOW = 15 * 60.0

STREAMS = (
    # The one stream holding facts the ledger has not yet recorded: keep it long and durable
    # (production servers fsync it on every write, see deploy/).
    StreamConfig(
        name=subjects.COMMANDS_STREAM,
        subjects=[subjects.COMMANDS_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=30 * DAY,
        duplicate_window=DUPLICATE_WINDOW,
        discard=DiscardPolicy.OLD,
    ),
    # Step requests: each taken by exactly one entity adapter; rebuilt from the ledger if lost.
    StreamConfig(
        name=subjects.WORK_STREAM,
        subjects=[subjects.WORK_SUBJECTS],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        max_age=7 * DAY,
        duplicate_window=DUPLICATE_WINDOW,
    ),
    StreamConfig(
        name=subjects.RESULTS_STREAM,
        subjects=[subjects.RESULTS_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=30 * DAY,
        duplicate_window=DUPLICATE_WINDOW,
    ),
    StreamConfig(
        name=subjects.EVENTS_STREAM,
        subjects=[subjects.EVENTS_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=7 * DAY,
        duplicate_window=DUPLICATE_WINDOW,
    ),
    StreamConfig(
        name=subjects.DEAD_LETTERS_STREAM,
        subjects=[subjects.DEAD_LETTERS_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=90 * DAY,
        duplicate_window=DUPLICATE_WINDOW,
    ),
)

# The streams the ledger reads, by the pattern their messages are published on and the
# wildcard that holds the case token.
PARTITIONED = {
    subjects.COMMANDS_STREAM: (subjects.COMMAND_SUBMISSION, 2),
    subjects.RESULTS_STREAM: (subjects.RESULT_ANSWER, 3),
}
_PARTITION_COUNT = re.compile(r"\{\{\s*partition\((\d+)\s*,")


def partition_transform(pattern: str, case_wildcard: int, count: int) -> SubjectTransform:
    """NATS's subject mapping that stores `pattern`'s messages with their case's partition as a
    last token. A subject with that token already (a redriven dead letter) does not match
    `pattern` and is stored as it is."""
    parts: list[str] = []
    wildcard = 0
    for part in pattern.split("."):
        if part == "*":
            wildcard += 1
            parts.append(f"{{{{wildcard({wildcard})}}}}")
        else:
            parts.append(part)
    dest = ".".join(parts) + f".{{{{partition({count},{case_wildcard})}}}}"
    return SubjectTransform(src=pattern, dest=dest)


def streams(ledger_partitions: int = 1) -> tuple[StreamConfig, ...]:
    """Every stream, the ledger's two with their partition mapping."""
    if ledger_partitions < 1:
        raise ValueError("the ledger needs at least one partition")
    return tuple(
        replace(
            config,
            subject_transform=partition_transform(*PARTITIONED[config.name], ledger_partitions),
        )
        if config.name in PARTITIONED
        else config
        for config in STREAMS
    )


def partition_count(config: StreamConfig) -> int:
    """How many ledger partitions a stream maps its messages to (1 without a mapping)."""
    transform = config.subject_transform
    found = _PARTITION_COUNT.search(transform.dest) if transform and transform.dest else None
    return int(found.group(1)) if found else 1


IDEMPOTENCY_TTL = timedelta(days=7)

# Adapters retry technical failures with growing pauses, then report the attempt as failed.
ADAPTER_MAX_DELIVER = 5
ADAPTER_BACKOFF = (1.0, 2.0, 5.0, 10.0)
ADAPTER_ACK_WAIT = 30.0


def adapter_consumer_config(entity: str) -> ConsumerConfig:
    """The config of `entity`'s durable work consumer (named by `subjects.adapter_consumer`)."""
    return ConsumerConfig(
        durable_name=subjects.adapter_consumer(entity),
        filter_subject=subjects.entity_work(entity),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ADAPTER_ACK_WAIT,
        max_deliver=ADAPTER_MAX_DELIVER,
        max_ack_pending=1000,
    )


async def ensure_topology(
    js: JetStreamContext,
    entities: Iterable[str] | None = None,
    *,
    replicas: int = 1,
    ledger_partitions: int = 1,
) -> None:
    """Streams, the idempotency and status buckets, and each entity's durable work consumer.

    `ledger_partitions`: how many partitions the commands and results streams map cases to
    (see `streams`); one ledger worker holds each at a time. Change it only with the ledger
    caught up (no command or result waiting): a case's later messages may go to another
    partition than its earlier ones.

    `replicas` is how many servers of a cluster keep each stream, bucket and consumer (3 on a
    three-node cluster: any one node may die without losing or blocking anything); a single
    server has 1. Replicas are set when a stream is created; an existing stream is updated.
    """
    for config in streams(ledger_partitions):
        await ensure_stream(js, replace(config, num_replicas=replicas))
    for bucket in BUCKETS:
        await _ensure_bucket(js, replace(bucket, replicas=replicas))
    for entity in tuple(ENTITIES) if entities is None else entities:
        await ensure_adapter_consumer(js, entity, replicas)


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or update it to `config`; a stream another process created meanwhile
    is left as that process made it."""
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except BadRequestError as exc:
            if exc.err_code != 10058:  # created by another process in the meantime
                raise
        return
    await js.update_stream(config)


BUCKETS = (
    # A channel's claim on a case id; expires after a week, like the client's right to retry.
    KeyValueConfig(
        bucket=subjects.IDEMPOTENCY_BUCKET,
        history=1,
        ttl=IDEMPOTENCY_TTL.total_seconds(),
        storage=StorageType.FILE,
    ),
    # The status read model: the last view of each case only; rebuilt from the ledger if lost.
    KeyValueConfig(bucket=subjects.STATUS_BUCKET, history=1, storage=StorageType.FILE),
)


async def _ensure_bucket(js: JetStreamContext, config: KeyValueConfig) -> None:
    try:
        await js.key_value(config.bucket)
    except (NotFoundError, NatsError):
        await js.create_key_value(config)


async def ensure_adapter_consumer(js: JetStreamContext, entity: str, replicas: int = 1) -> None:
    config = adapter_consumer_config(entity)
    if replicas != 1:
        config = replace(config, num_replicas=replicas)
    await js.add_consumer(subjects.WORK_STREAM, config)
