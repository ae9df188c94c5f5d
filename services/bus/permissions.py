"""Who may publish and subscribe what on the bus: the permission matrix, as plain data.

The nats-server enforces it (services/stack/nats_config.py renders it into the server's
configuration); our code only connects as the right user. Every user gets its own reply inbox
(`_INBOX.<user>.>`), so no one can read the answers meant for another.

- an entity takes its requests only through its durable consumer `adapter-<entity>` (created by
  the bus owner with the entity's filter), publishes results of its own services and its own dead
  letters; it cannot see another entity's work, results, consumers, the ledger or the KV bucket;
- the ledger reads the command and result streams through consumers of its own, purges the
  commands it has recorded, publishes step requests, events and its dead letters, writes the
  status bucket, and answers the gateway's questions;
- the gateway claims idempotency keys in the KV bucket, publishes `SubmitCase` commands and asks
  the ledger; it reads and watches the status bucket but cannot write it; it cannot publish step
  results or step requests;
- a channel (a MAC site connecting over NATS, e.g. a kiosk's leaf node) may only publish its own
  `SubmitCase` commands; the ledger checks that a command's actor is the channel of its subject;
- `check-<entity>` (the conformance kit, `ventanilla adapter check`) may publish step requests
  to that entity's work subjects only and listen, with core subscriptions, to that entity's
  results, dead letters and heartbeats: what the entity's adapter already writes, nothing more. It
  has no JetStream API at all (no consumers, no stream reads, no KV), so it cannot read another
  entity's traffic, the ledger's events or any stored message;
- `admin` (operators, and `ventanilla up` creating the topology) may do anything.
"""

from dataclasses import dataclass

from schemas import sites, subjects
from schemas.conformance import check_user_name
from schemas.queries import LEDGER_QUESTIONS

JS_API = "$JS.API"
ADMIN, LEDGER, GATEWAY = "admin", "ledger", "gateway"


@dataclass(frozen=True)
class BusUser:
    name: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    # Answer requests on whatever reply subject they carry (the ledger answering the gateway).
    allow_responses: bool = False


def inbox_prefix(user: str) -> str:
    """Where replies to `user` arrive; the client connects with this prefix."""
    return f"_INBOX.{user}"


def _inbox(user: str) -> str:
    return f"{inbox_prefix(user)}.>"


def _read_stream_with_own_consumers(stream: str) -> tuple[str, ...]:
    """Create, follow and delete consumers on `stream` (ephemeral ones have random names)."""
    return (
        f"{JS_API}.STREAM.INFO.{stream}",
        f"{JS_API}.CONSUMER.CREATE.{stream}",
        f"{JS_API}.CONSUMER.CREATE.{stream}.>",
        f"{JS_API}.CONSUMER.INFO.{stream}.*",
        f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.*",
        f"{JS_API}.CONSUMER.DELETE.{stream}.*",
    )


def read_bucket(bucket: str) -> tuple[str, ...]:
    """Look a KV bucket up and get its keys (direct get, or the older message get)."""
    stream = subjects.kv_stream(bucket)
    return (
        f"{JS_API}.STREAM.INFO.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}",
        f"{JS_API}.DIRECT.GET.{stream}.>",
        f"{JS_API}.STREAM.MSG.GET.{stream}",
    )


def _watch_bucket(bucket: str) -> tuple[str, ...]:
    """Follow a KV bucket with ordered consumers (a KV watch), replying to their flow control."""
    stream = subjects.kv_stream(bucket)
    return (
        f"{JS_API}.CONSUMER.CREATE.{stream}",
        f"{JS_API}.CONSUMER.CREATE.{stream}.>",
        f"{JS_API}.CONSUMER.INFO.{stream}.*",
        f"{JS_API}.CONSUMER.DELETE.{stream}.*",
        f"$JS.FC.{stream}.>",
    )


def entity_user(entity: str) -> BusUser:
    consumer = subjects.adapter_consumer(entity)
    return BusUser(
        name=entity,
        publish=(
            subjects.entity_results(entity),
            subjects.dead_letter(entity),
            f"{JS_API}.CONSUMER.INFO.{subjects.WORK_STREAM}.{consumer}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{subjects.WORK_STREAM}.{consumer}",
            f"$JS.ACK.{subjects.WORK_STREAM}.{consumer}.>",
            subjects.heartbeat(entity),
        ),
        subscribe=(_inbox(entity),),
    )


def check_user(entity: str) -> BusUser:
    name = check_user_name(entity)
    return BusUser(
        name=name,
        # JetStream acknowledges each publish on the user's own inbox.
        publish=(f"{subjects.PREFIX}.work.{entity}.*",),
        subscribe=(
            subjects.entity_results(entity),
            subjects.dead_letter(entity),
            subjects.heartbeat(entity),
            _inbox(name),
        ),
    )


def ledger_user() -> BusUser:
    return BusUser(
        name=LEDGER,
        publish=(
            subjects.WORK_SUBJECTS,
            subjects.EVENTS_SUBJECTS,
            subjects.dead_letter(LEDGER),
            # The dead-letter desk (case_ledger/dead_letter_desk.py): read the letters, and
            # republish one on its original subject when an operator redrives it.
            f"{JS_API}.STREAM.INFO.{subjects.DEAD_LETTERS_STREAM}",
            f"{JS_API}.STREAM.MSG.GET.{subjects.DEAD_LETTERS_STREAM}",
            subjects.channel_submissions("*"),
            f"{subjects.COMMANDS_SUBJECTS}",
            subjects.RESULTS_SUBJECTS,
            subjects.LEDGER_SAVED,
            subjects.heartbeat(LEDGER),
            *_read_stream_with_own_consumers(subjects.COMMANDS_STREAM),
            # Purges the commands it has recorded (case_ledger/retiring.py): this stream only,
            # no message delete, nothing on any other stream.
            f"{JS_API}.STREAM.PURGE.{subjects.COMMANDS_STREAM}",
            *_read_stream_with_own_consumers(subjects.RESULTS_STREAM),
            # The status read model: written (KV put with a revision check) and read back.
            f"$KV.{subjects.STATUS_BUCKET}.>",
            *read_bucket(subjects.STATUS_BUCKET),
        ),
        subscribe=(f"{subjects.PREFIX}.ledger.>", _inbox(LEDGER)),
        allow_responses=True,
    )


def gateway_user(site_ids: tuple[str, ...] = ()) -> BusUser:
    # The overview's view of each MAC Express site's link (services/sites/links.py).
    site_links = tuple(
        subject
        for site in site_ids
        for subject in (
            f"{JS_API}.STREAM.INFO.{sites.inbound_stream(site)}",
            f"{JS_API}.CONSUMER.INFO.{sites.inbound_stream(site)}.{sites.relay_consumer(site)}",
        )
    )
    return BusUser(
        name=GATEWAY,
        publish=(
            subjects.channel_submissions("*"),
            f"$KV.{subjects.IDEMPOTENCY_BUCKET}.>",
            *read_bucket(subjects.IDEMPOTENCY_BUCKET),
            # The status read model: read and watched, never written (no `$KV.` publish).
            *read_bucket(subjects.STATUS_BUCKET),
            *_watch_bucket(subjects.STATUS_BUCKET),
            *(question.subject for question in LEDGER_QUESTIONS),
            # The operators' overview: levels and consumer state only, never a message.
            *(f"{JS_API}.STREAM.INFO.{stream}" for stream in subjects.OBSERVED_STREAMS),
            f"{JS_API}.CONSUMER.INFO.{subjects.WORK_STREAM}.*",
            *site_links,
        ),
        # Heartbeats for the operators' health cards: process names and times, nothing personal.
        subscribe=(_inbox(GATEWAY), subjects.HEARTBEATS),
    )


def channel_user_name(channel: str) -> str:
    return f"channel-{channel}"


def channel_user(channel: str) -> BusUser:
    name = channel_user_name(channel)
    return BusUser(
        name=name,
        # JetStream answers the publish with its ack on the user's own inbox.
        publish=(subjects.channel_submissions(channel),),
        subscribe=(_inbox(name),),
    )


def admin_user() -> BusUser:
    return BusUser(name=ADMIN, publish=(">",), subscribe=(">",))


def bus_users(
    entities: tuple[str, ...], channels: tuple[str, ...] = (), sites: tuple[str, ...] = ()
) -> tuple[BusUser, ...]:
    """Every user of the bus: the owner, the ledger, the gateway, one per entity (and one to
    check its adapter) and one per channel."""
    return (
        admin_user(),
        ledger_user(),
        gateway_user(sites),
        *(entity_user(e) for e in entities),
        *(check_user(e) for e in entities),
        *(channel_user(c) for c in channels),
    )
