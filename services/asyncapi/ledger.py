"""The ledger's side of the bus: the commands it records, the events it announces, the
questions it answers (request/reply) and the status bucket it writes."""

from typing import Any

from schemas import sites, subjects
from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.event_types import ANNOUNCED_EVENTS
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.messages import LedgerEvent, SubmitCase
from schemas.queries import (
    AccessLogAnswer,
    AccessLogQuery,
    BundleAnswer,
    BundleQuery,
    CaseAnswer,
    CaseQuery,
    HistoryAnswer,
    PingAnswer,
    ReadNotice,
    ReadRecorded,
    VerifyAnswer,
    VerifyQuery,
)
from schemas.sla import SlaQuery, SlaReport
from schemas.views import CaseView
from services.bus.permissions import LEDGER

from .builder import AsyncApiWriter, Message, Reply
from .headers import HEX_CASE_ID, message_headers
from .roles import CHANNEL, GATEWAY, LEDGER_ROLE, SITE_RELAY_ROLE


def command_channels(w: AsyncApiWriter) -> None:
    submit = Message(
        name="SubmitCase",
        key="SubmitCase",
        title="Submit a case",
        payload=w.schema(SubmitCase),
        headers=message_headers(),
        summary="Nats-Msg-Id is `submit:<case id>`: a channel's retry is one case.",
    )
    cmd = w.channel(
        "cmd.submit-case",
        subjects.submit_case("{channel}"),
        f"Cases the channels submit, in the commands stream {subjects.COMMANDS_STREAM}. The "
        "ledger checks that a command's actor is the channel of its subject, and purges the "
        "stream up to the last command it has recorded.",
        (submit,),
        parameters={
            "channel": {
                "description": "The submitting channel's id.",
                "examples": ["mac-lima-norte", sites.site_channel("pias-napo")],
            }
        },
    )
    w.operation("gateway.submit-case", "send", cmd, GATEWAY, "Submit an HTTP client's case.")
    w.operation("channel.submit-case", "send", cmd, CHANNEL, "Submit a case as this channel.")
    w.operation("site-relay.forward-case", "send", cmd, SITE_RELAY_ROLE, "Forward a site's case.")
    w.operation("ledger.take-commands", "receive", cmd, LEDGER_ROLE, "Open the case.")
    w.operation(
        "ledger.redrive-case",
        "send",
        cmd,
        LEDGER_ROLE,
        "Republish a dead-lettered command, as it was, when an operator redrives it.",
    )


def event_types() -> list[str]:
    """The event types the ledger announces: a case's end (the steps are in the status bucket)."""
    return sorted(t.value for t in ANNOUNCED_EVENTS)


def event_channels(w: AsyncApiWriter) -> None:
    events = w.channel(
        "event",
        subjects.event("{event_type}"),
        f"A case's end as the ledger announces it after recording it, in {subjects.EVENTS_STREAM}"
        ", without the personal data. The steps in between are not announced: a case's "
        "progress is in the status bucket (kv.case-status).",
        (
            Message(
                name="LedgerEvent",
                key="LedgerEvent",
                title="Ledger event",
                payload=w.schema(LedgerEvent),
                headers=message_headers(),
            ),
        ),
        parameters={
            "event_type": {
                "description": "The event's type, as the ledger records it.",
                "enum": event_types(),
            }
        },
    )
    w.operation("ledger.announce", "send", events, LEDGER_ROLE, "Announce a case's end.")


QUERIES: tuple[tuple[str, str, Any, Any, str], ...] = (
    ("case", subjects.LEDGER_QUERY_CASE, CaseQuery, CaseAnswer, "A case's status and steps."),
    (
        "history",
        subjects.LEDGER_QUERY_HISTORY,
        CaseQuery,
        HistoryAnswer,
        "A case's ledger history, or a replay as of a moment or version; records the read.",
    ),
    (
        "access-log",
        subjects.LEDGER_QUERY_ACCESS_LOG,
        AccessLogQuery,
        AccessLogAnswer,
        "Who used a citizen's data; the document number travels in the body, never the subject.",
    ),
    ("sla", subjects.LEDGER_QUERY_SLA, SlaQuery, SlaReport, "The ANS report over a period."),
    ("ping", subjects.LEDGER_PING, None, PingAnswer, "Whether the ledger can read its store."),
    (
        "read",
        subjects.LEDGER_RECORD_READ,
        ReadNotice,
        ReadRecorded,
        "Record a read of a case's personal data (a clerk's case page) with its purpose.",
    ),
    (
        "verify",
        subjects.LEDGER_QUERY_VERIFY,
        VerifyQuery,
        VerifyAnswer,
        "What `ventanilla audit verify` says of the running ledger; no personal data.",
    ),
    (
        "bundle",
        subjects.LEDGER_QUERY_BUNDLE,
        BundleQuery,
        BundleAnswer,
        "A case's evidence bundle (docs/bundle-format.md); records the read.",
    ),
    (
        "indicators",
        subjects.LEDGER_QUERY_INDICATORS,
        IndicatorsQuery,
        IndicatorsReport,
        "The management indicators and savings over a period.",
    ),
    (
        "dead-letters",
        subjects.LEDGER_QUERY_DEAD_LETTERS,
        DeadLetterQuery,
        DeadLetterList,
        "The dead letters, filtered, with redacted payloads.",
    ),
    (
        "redrive",
        subjects.LEDGER_REDRIVE,
        RedriveRequest,
        RedriveAnswer,
        "Redrive dead letters with the operator's reason; a second redrive does nothing.",
    ),
)


def query_channels(w: AsyncApiWriter) -> None:
    for name, address, question, answer, summary in QUERIES:
        key = address.removeprefix(f"{subjects.PREFIX}.")
        asked = Message(
            name=question.__name__ if question else "Ping",
            key=f"{key}.request",
            title=f"{name} query",
            payload=w.schema(question)
            if question
            else {"type": "string", "maxLength": 0, "description": "Empty."},
        )
        answered = Message(
            name=answer.__name__,
            key=f"{key}.reply",
            title=f"{name} answer",
            payload=w.schema(answer),
        )
        channel = w.channel(
            key,
            address,
            f"{summary} Core NATS request/reply, answered by one ledger of queue group {LEDGER!r}.",
            (asked,),
        )
        reply = w.channel(
            f"{key}.reply",
            None,
            "The asker's own reply inbox (`_INBOX.<user>.…`, the request's reply subject).",
            (answered,),
        )
        answer_to = Reply(reply, (answered.name,))
        w.operation(
            f"ledger.answer.{name}", "receive", channel, LEDGER_ROLE, summary, reply=answer_to
        )
        w.operation(f"gateway.ask.{name}", "send", channel, GATEWAY, summary, reply=answer_to)


def status_bucket_channels(w: AsyncApiWriter) -> None:
    status = w.channel(
        "kv.case-status",
        f"$KV.{subjects.STATUS_BUCKET}.{subjects.STATUS_KEY_PREFIX}{{case_id}}",
        f"The status read model, KV bucket {subjects.STATUS_BUCKET}: the last view of each "
        "case, written after the ledger commits, read and watched by the gateways and "
        "followed by the site relay.",
        (
            Message(
                name="CaseView",
                key="CaseView",
                title="A case's status",
                payload=w.schema(CaseView),
            ),
        ),
        parameters={"case_id": HEX_CASE_ID},
    )
    w.operation("ledger.put-status", "send", status, LEDGER_ROLE, "Put a case's latest view.")
    w.operation("gateway.watch-status", "receive", status, GATEWAY, "Read and watch statuses.")
    w.operation(
        "site-relay.follow-statuses",
        "receive",
        status,
        SITE_RELAY_ROLE,
        f"Follow every status (consumer {sites.RELAY_STATUSES_CONSUMER} on the bucket's stream) "
        "to send a site's cases' statuses back to it.",
    )
