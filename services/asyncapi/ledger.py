"""The ledger's side of the bus: the commands it records, the events it announces, the
questions it answers (request/reply) and the status bucket it writes."""

from schemas import sites, subjects
from schemas.event_types import ANNOUNCED_EVENTS
from schemas.messages import LedgerEvent, SubmitCase
from schemas.queries import LEDGER_QUESTIONS, RECORD_READ
from schemas.views import CaseView

from .builder import AsyncApiWriter, Message, Reply
from .headers import HEX_CASE_ID, message_headers
from .roles import CHANNEL, GATEWAY, LEDGER_ROLE, SITE_RELAY_ROLE


def submit_case_message(w: AsyncApiWriter) -> Message:
    """A SubmitCase command, as a channel, a site or the hub's relay publishes it."""
    return Message(
        name="SubmitCase",
        key="SubmitCase",
        title="Submit a case",
        payload=w.schema(SubmitCase),
        headers=message_headers(),
        summary="Nats-Msg-Id is `submit:<case id>`: a channel's retry is one case.",
    )


def command_channels(w: AsyncApiWriter) -> None:
    submit = submit_case_message(w)
    cmd = w.channel(
        "cmd.submit-case",
        subjects.submit_case("{channel}", "{case}"),
        f"Cases the channels submit, in the commands stream {subjects.COMMANDS_STREAM}. The "
        "ledger checks that a command's actor is the channel of its subject, and purges the "
        "stream up to the last command it has recorded. The stream stores each command under "
        "this subject plus the case's ledger partition as a last token (NATS subject mapping).",
        (submit,),
        parameters={
            "channel": {
                "description": "The submitting channel's id.",
                "examples": ["mac-lima-norte", sites.site_channel("pias-napo")],
            },
            "case": HEX_CASE_ID,
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


def query_channels(w: AsyncApiWriter) -> None:
    for q in LEDGER_QUESTIONS:
        key = q.subject.removeprefix(f"{subjects.PREFIX}.")
        asked = Message(
            name=q.question.__name__ if q.question else "Ping",
            key=f"{key}.request",
            title=f"{q.name} query",
            payload=w.schema(q.question)
            if q.question
            else {"type": "string", "maxLength": 0, "description": "Empty."},
        )
        answered = Message(
            name=q.answer.__name__,
            key=f"{key}.reply",
            title=f"{q.name} answer",
            payload=w.schema(q.answer),
        )
        channel = w.channel(
            key,
            q.subject,
            f"{q.summary} Core NATS request/reply, answered by one ledger of queue group "
            f"{subjects.LEDGER_QUEUE!r}.",
            (asked,),
        )
        reply = w.channel(
            f"{key}.reply",
            None,
            "The asker's own reply inbox (`_INBOX.<user>.…`, the request's reply subject).",
            (answered,),
        )
        answer_to = Reply(reply, (answered.name,))
        summary = q.summary
        w.operation(
            f"ledger.answer.{q.name}", "receive", channel, LEDGER_ROLE, summary, reply=answer_to
        )
        w.operation(f"gateway.ask.{q.name}", "send", channel, GATEWAY, summary, reply=answer_to)
        if q is RECORD_READ:  # a MAC Express site's reads, handed over by the relay
            w.operation(
                "site-relay.record-site-read",
                "send",
                channel,
                SITE_RELAY_ROLE,
                "Record a clerk's read at a site.",
                reply=answer_to,
            )


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


def worker_channels(w: AsyncApiWriter) -> None:
    """Between ledger workers of one store: a save the leader's outbox relay should follow."""
    saved = w.channel(
        "ledger.saved",
        subjects.LEDGER_SAVED,
        "Core NATS, not JetStream: a ledger worker that is not the leader saved something. The "
        "leader's outbox relay and status views then read the store at once instead of at their "
        "next poll (every second); a lost one delays, it loses nothing.",
        (
            Message(
                name="LedgerSaved",
                key="LedgerSaved",
                title="A ledger worker saved",
                payload={"type": "string", "maxLength": 0, "description": "Empty."},
            ),
        ),
    )
    w.operation("ledger.tell-leader", "send", saved, LEDGER_ROLE, "Say a batch was saved.")
    w.operation("ledger.follow-saves", "receive", saved, LEDGER_ROLE, "Relay what was saved.")
