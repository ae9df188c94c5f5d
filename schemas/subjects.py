"""Every subject, stream, consumer and bucket name on the bus, written once.

Subjects carry entity, service, channel and case ids only: never personal data.
"""

from uuid import UUID

PREFIX = "ventanilla"

COMMANDS_STREAM = "VENTANILLA_COMMANDS"
COMMANDS_SUBJECTS = f"{PREFIX}.cmd.>"

WORK_STREAM = "VENTANILLA_WORK"
WORK_SUBJECTS = f"{PREFIX}.work.>"

RESULTS_STREAM = "VENTANILLA_RESULTS"
RESULTS_SUBJECTS = f"{PREFIX}.result.>"

EVENTS_STREAM = "VENTANILLA_EVENTS"
EVENTS_SUBJECTS = f"{PREFIX}.event.>"

DEAD_LETTERS_STREAM = "VENTANILLA_DEAD_LETTERS"
DEAD_LETTERS_SUBJECTS = f"{PREFIX}.dlq.>"

IDEMPOTENCY_BUCKET = "ventanilla_idempotency"

# The status read model: each case's status and steps (a CaseView), written by the ledger after
# it commits, read and watched by the gateways. Keys carry the case id only.
STATUS_BUCKET = "ventanilla_case_status"
STATUS_KEY_PREFIX = "case."

# The streams whose levels operators watch (all but the buckets').
OBSERVED_STREAMS = (
    COMMANDS_STREAM,
    WORK_STREAM,
    RESULTS_STREAM,
    EVENTS_STREAM,
    DEAD_LETTERS_STREAM,
)

# The ledger's questions (schemas/queries.py) are answered by one ledger of this queue group.
LEDGER_QUEUE = "ledger"
LEDGER_QUERY_CASE = f"{PREFIX}.ledger.query.case"
LEDGER_QUERY_HISTORY = f"{PREFIX}.ledger.query.history"
# The document number travels in the request body, never in this subject.
LEDGER_QUERY_ACCESS_LOG = f"{PREFIX}.ledger.query.access-log"
LEDGER_PING = f"{PREFIX}.ledger.ping"
LEDGER_QUERY_SLA = f"{PREFIX}.ledger.query.sla"
LEDGER_RECORD_READ = f"{PREFIX}.ledger.query.read"
LEDGER_QUERY_INDICATORS = f"{PREFIX}.ledger.query.indicators"
LEDGER_QUERY_DEAD_LETTERS = f"{PREFIX}.ledger.query.dead-letters"
LEDGER_REDRIVE = f"{PREFIX}.ledger.redrive"
LEDGER_QUERY_VERIFY = f"{PREFIX}.ledger.query.verify"
LEDGER_QUERY_BUNDLE = f"{PREFIX}.ledger.query.bundle"

# Headers of our own, beside the standard Nats-Msg-Id and W3C traceparent.
HEADER_DEAD_LETTER_REASON = "Ventanilla-Dead-Letter-Reason"
HEADER_ORIGIN_STREAM = "Ventanilla-Origin-Stream"
HEADER_ORIGIN_SEQUENCE = "Ventanilla-Origin-Sequence"
HEADER_ORIGIN_SUBJECT = "Ventanilla-Origin-Subject"
HEADER_RETRY_OF = "Ventanilla-Retry-Of"  # the dead letter a retried message was taken from


def case_token(case_id: UUID | str) -> str:
    """A case's token in a subject (a UUID's hex digits; a `{placeholder}` for the contract)."""
    return case_id.hex if isinstance(case_id, UUID) else case_id


def submit_case(channel: str, case_id: UUID | str) -> str:
    """Where `channel` submits a case: the case id is in the subject so that the commands
    stream can map each case to a ledger partition (`partition()`, see below)."""
    return f"{PREFIX}.cmd.submit-case.{channel}.{case_token(case_id)}"


def channel_submissions(channel: str) -> str:
    """Every subject `channel` may submit cases on (`*` for every channel)."""
    return f"{PREFIX}.cmd.submit-case.{channel}.*"


def work(entity: str, service: str) -> str:
    return f"{PREFIX}.work.{entity}.{service}"


def entity_work(entity: str) -> str:
    return f"{PREFIX}.work.{entity}.>"


def result(entity: str, service: str, case_id: UUID | str) -> str:
    """Where `entity` answers a step of a case (the case id maps it to the case's partition)."""
    return f"{PREFIX}.result.{entity}.{service}.{case_token(case_id)}"


def entity_results(entity: str) -> str:
    """Every subject `entity` may answer on: exactly entity, service and case, so that no
    sender can name a partition itself."""
    return f"{PREFIX}.result.{entity}.*.*"


# Ledger partitions. The commands and results streams store each message under its published
# subject plus one more token, the case's partition: `{{partition(N, <case token>)}}`, NATS's
# own subject mapping (services/bus/topology.py), so one ledger worker reads one partition with
# a filter and every message of a case lands in the same partition of both streams.
# `schemas.partitions.partition_of` computes the same number.
COMMAND_SUBMISSION = f"{PREFIX}.cmd.submit-case.*.*"  # channel, case
RESULT_ANSWER = f"{PREFIX}.result.*.*.*"  # entity, service, case


def partitioned(published: str, partition: int) -> str:
    """The subject a stream stores a message published on `published` under."""
    return f"{published}.{partition}"


def in_partition(pattern: str, partition: int) -> str:
    """The filter of one partition's messages on a stream whose published form is `pattern`."""
    return f"{pattern}.{partition}"


def published_form(stored: str, pattern: str) -> str:
    """`stored` without its partition token, when it has one (`pattern` plus one token)."""
    head, _, last = stored.rpartition(".")
    if last.isdigit() and head.count(".") == pattern.count("."):
        return head
    return stored


# A ledger worker that saved something tells the leader (the one whose outbox relay and status
# views follow the store) at once, rather than waiting for its next poll. Core NATS, no body.
LEDGER_SAVED = f"{PREFIX}.ledger.saved"


def event(event_type: str) -> str:
    return f"{PREFIX}.event.{event_type}"


def dead_letter(origin: str) -> str:
    """Dead letters are filed under who gave up on them (an entity id or `ledger`)."""
    return f"{PREFIX}.dlq.{origin}"


# Core NATS, not JetStream: a heartbeat is worth something only while it is fresh.
HEARTBEATS = f"{PREFIX}.heartbeat.*"


def heartbeat(process: str) -> str:
    """Where a process says it is alive (`ledger`, or an entity id for its adapter)."""
    return f"{PREFIX}.heartbeat.{process}"


def adapter_consumer(entity: str) -> str:
    return f"adapter-{entity}"


def case_status_key(case_id: UUID) -> str:
    """The case's key in the status bucket."""
    return f"{STATUS_KEY_PREFIX}{case_id.hex}"


def kv_stream(bucket: str) -> str:
    """The JetStream stream that holds a KV bucket."""
    return f"KV_{bucket}"
