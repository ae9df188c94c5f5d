"""The whole bus as one AsyncAPI 3.0 document, built from the code that runs it.

Subjects come from schemas/subjects.py and schemas/sites.py, payloads from the pydantic models
that the publishers write and the subscribers validate, the entities and their services from the
registered entity packages (so a package installed later shows up), who publishes and who
subscribes from the permission matrix's roles (services/bus/permissions.py), and each adapter's
subscription from FastStream's own generator (services/asyncapi/adapters.py).

A subject with a variable part (a channel id, a service, an event type) is one channel with a
parameter; an entity's work and results are a channel each per entity, with one message per
service, so each service's typed request and result stay distinct.
"""

import json
from functools import cache
from importlib.metadata import version
from typing import Any

from schemas import sites, subjects
from schemas.heartbeats import Heartbeat
from schemas.messages import LedgerEvent, StepRequest, StepResult, SubmitCase
from schemas.queries import (
    AccessLogAnswer,
    AccessLogQuery,
    CaseAnswer,
    CaseQuery,
    HistoryAnswer,
    PingAnswer,
)
from schemas.sla import SlaQuery, SlaReport
from schemas.views import CaseView
from services.bus.permissions import LEDGER
from services.case_ledger.domain import CaseFile
from services.entity_adapters.package import EntityPackage
from services.entity_adapters.registry import entity_packages
from services.sites.permissions import SITE_RELAY

from .adapters import adapter_subscription
from .builder import AsyncApiWriter, Message, Reply
from .roles import (
    ADAPTER,
    CHANNEL,
    GATEWAY,
    LEDGER_ROLE,
    METRICS,
    OPERATOR,
    SITE,
    SITE_RELAY_ROLE,
    entity_tag,
)

TITLE = "Ventanilla bus"
DESCRIPTION = """\
Every subject of Ventanilla's NATS bus: the channels' commands, the entities' work and results,
the ledger's events, queries and status bucket, heartbeats and dead letters. Each operation is
tagged with the role that performs it; the NATS server's permissions (one user per role) let
each role publish and subscribe only what its operations say. Generated from the code by
`ventanilla asyncapi`; see docs/asyncapi.md.
"""

HEX_CASE_ID = {"description": "The case id, 32 hex digits.", "examples": ["0" * 32]}


def _headers(*extra: tuple[str, str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Nats-Msg-Id": {
            "type": "string",
            "description": "The message's id: a retried publish keeps it, and the stream drops "
            "the repeat within its duplicate window.",
        },
        "traceparent": {"type": "string", "description": "W3C trace context of the case."},
        subjects.HEADER_RETRY_OF: {
            "type": "string",
            "description": "Set when an operator retried a dead letter: that letter's id.",
        },
    }
    properties.update({name: {"type": "string", "description": text} for name, text in extra})
    return {
        "type": "object",
        "properties": properties,
        "required": sorted({"Nats-Msg-Id", *required}),
    }


def _typed(base: Any, field: str, schema: Any, contract: Any) -> dict[str, Any]:
    """The envelope `base` with `field` holding one service's schema, for that service only."""
    return {
        "allOf": [
            base,
            {
                "type": "object",
                "properties": {
                    "entity": {"const": contract.entity},
                    "service": {"const": contract.service},
                    field: schema,
                },
            },
        ]
    }


def _entity(w: AsyncApiWriter, package: EntityPackage) -> None:
    entity, role = package.entity, ADAPTER
    codes = [c.service for c in package.contracts]
    services = {"service": {"description": "The service's code.", "enum": codes}}
    work_messages, result_messages = [], []
    for c in package.contracts:
        work_messages.append(
            Message(
                name=c.service,
                key=f"work.{entity}.{c.service}",
                title=f"{c.title}: request",
                summary=f"The ledger asks {package.name} for {c.title}.",
                payload=_typed(w.schema(StepRequest), "payload", w.schema(c.request), c),
                headers=_headers(),
            )
        )
        data = {"anyOf": [w.schema(c.result), {"type": "object", "maxProperties": 0}]}
        result_messages.append(
            Message(
                name=c.service,
                key=f"result.{entity}.{c.service}",
                title=f"{c.title}: result",
                summary="`data` holds the service's result when `outcome` is `completed`, "
                "else it is empty.",
                payload=_typed(w.schema(StepResult), "data", data, c),
                headers=_headers(),
            )
        )
    operation_id, generated, generated_channel = adapter_subscription(package)
    work = w.channel(
        f"work.{entity}",
        subjects.work(entity, "{service}"),
        f"{package.name}'s step requests, in the work stream {subjects.WORK_STREAM}; the "
        f"adapter takes them through its durable consumer {subjects.adapter_consumer(entity)} "
        f"(filter {subjects.entity_work(entity)}).",
        tuple(work_messages),
        parameters=services,
        bindings=generated_channel.get("bindings"),
    )
    results = w.channel(
        f"result.{entity}",
        subjects.result(entity, "{service}"),
        f"{package.name}'s answers, in the results stream {subjects.RESULTS_STREAM}.",
        tuple(result_messages),
        parameters=services,
    )
    extra = (entity_tag(entity, package.name),)
    w.operation(
        f"ledger.dispatch.{entity}", "send", work, LEDGER_ROLE, "Dispatch a step.", extra_tags=extra
    )
    w.operation(
        operation_id,
        "receive",
        work,
        role,
        "Take a step request (described by FastStream from the adapter code).",
        extra_tags=extra,
        base={k: v for k, v in generated.items() if k not in ("channel", "messages")},
    )
    w.operation(
        f"adapter-{entity}.answer",
        "send",
        results,
        role,
        "Answer a step: completed, rejected, failed, or accepted (a deferred answer, whose final "
        "one follows later, from the adapter or any process holding the entity's credentials).",
        extra_tags=extra,
    )
    w.operation(
        f"ledger.take-results.{entity}",
        "receive",
        results,
        LEDGER_ROLE,
        "Record an answer.",
        extra_tags=extra,
    )


def _commands(w: AsyncApiWriter) -> None:
    submit = Message(
        name="SubmitCase",
        key="SubmitCase",
        title="Submit a case",
        payload=w.schema(SubmitCase),
        headers=_headers(),
        summary="Nats-Msg-Id is `submit:<case id>`: a channel's retry is one case.",
    )
    cmd = w.channel(
        "cmd.submit-case",
        subjects.submit_case("{channel}"),
        f"Cases the channels submit, in the commands stream {subjects.COMMANDS_STREAM}. The "
        "ledger checks that a command's actor is the channel of its subject.",
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


def event_types() -> list[str]:
    """Every event type the ledger records, hence announces: the case file's event classes
    (eventsourcing's own bases `Event` and `Created` are never recorded as such)."""
    return sorted(
        name
        for name, value in vars(CaseFile).items()
        if isinstance(value, type)
        and issubclass(value, CaseFile.Event)
        and value not in (CaseFile.Event, CaseFile.Created)
    )


def _events(w: AsyncApiWriter) -> None:
    events = w.channel(
        "event",
        subjects.event("{event_type}"),
        f"The ledger's events as announced after they are recorded, in {subjects.EVENTS_STREAM}"
        ": what happened to a case, without the personal data.",
        (
            Message(
                name="LedgerEvent",
                key="LedgerEvent",
                title="Ledger event",
                payload=w.schema(LedgerEvent),
                headers=_headers(),
            ),
        ),
        parameters={
            "event_type": {
                "description": "The event's type, as the ledger records it.",
                "enum": event_types(),
            }
        },
    )
    w.operation("ledger.announce", "send", events, LEDGER_ROLE, "Announce a recorded event.")
    w.operation(
        "site-relay.follow-events",
        "receive",
        events,
        SITE_RELAY_ROLE,
        f"Follow the events (consumer {sites.RELAY_EVENTS_CONSUMER}) to send a site's cases' "
        "statuses back to it.",
    )


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
)


def _queries(w: AsyncApiWriter) -> None:
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
        if name == "case":
            w.operation(
                "site-relay.ask.case", "send", channel, SITE_RELAY_ROLE, summary, reply=answer_to
            )


def _status_bucket(w: AsyncApiWriter) -> None:
    status = w.channel(
        "kv.case-status",
        f"$KV.{subjects.STATUS_BUCKET}.{subjects.STATUS_KEY_PREFIX}{{case_id}}",
        f"The status read model, KV bucket {subjects.STATUS_BUCKET}: the last view of each "
        "case, written after the ledger commits, read and watched by the gateways.",
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


def _heartbeats(w: AsyncApiWriter, packages: tuple[EntityPackage, ...]) -> None:
    entities = tuple(p.entity for p in packages)
    beats = w.channel(
        "heartbeat",
        subjects.heartbeat("{process}"),
        "Core NATS, not JetStream: a heartbeat is worth something only while it is fresh.",
        (
            Message(
                name="Heartbeat", key="Heartbeat", title="Heartbeat", payload=w.schema(Heartbeat)
            ),
        ),
        parameters={"process": {"description": "Who beats.", "enum": [LEDGER, *entities]}},
    )
    w.operation("ledger.heartbeat", "send", beats, LEDGER_ROLE, "Say the ledger is alive.")
    for p in packages:
        w.operation(
            f"adapter-{p.entity}.heartbeat",
            "send",
            beats,
            ADAPTER,
            "Say it is alive.",
            extra_tags=(entity_tag(p.entity, p.name),),
        )
    w.operation("metrics.follow-heartbeats", "receive", beats, METRICS, "Report who is alive.")


def _dead_letters(w: AsyncApiWriter, packages: tuple[EntityPackage, ...]) -> None:
    entities = tuple(p.entity for p in packages)
    letter = Message(
        name="DeadLetter",
        key="DeadLetter",
        title="Dead letter",
        summary="The original message's bytes, unchanged, with why and where it was stored.",
        payload={"description": "The original bytes (any content: that may be why it is here)."},
        headers=_headers(
            (subjects.HEADER_DEAD_LETTER_REASON, "Why it can never be processed."),
            (subjects.HEADER_ORIGIN_STREAM, "The stream it was stored in ('' for none)."),
            (subjects.HEADER_ORIGIN_SEQUENCE, "Its position there ('0' for none)."),
            (subjects.HEADER_ORIGIN_SUBJECT, "Its subject: a retry goes back there."),
            required=(
                subjects.HEADER_DEAD_LETTER_REASON,
                subjects.HEADER_ORIGIN_STREAM,
                subjects.HEADER_ORIGIN_SEQUENCE,
                subjects.HEADER_ORIGIN_SUBJECT,
            ),
        ),
    )
    dlq = w.channel(
        "dlq",
        subjects.dead_letter("{origin}"),
        f"Messages that can never be processed, in {subjects.DEAD_LETTERS_STREAM}, filed under "
        "who gave up on them; the original was acked so it blocks nothing.",
        (letter,),
        parameters={
            "origin": {"description": "Who filed it.", "enum": [LEDGER, SITE_RELAY, *entities]}
        },
    )
    w.operation("ledger.dead-letter", "send", dlq, LEDGER_ROLE, "File an unprocessable command.")
    w.operation("site-relay.dead-letter", "send", dlq, SITE_RELAY_ROLE, "File a site's bad case.")
    for p in packages:
        w.operation(
            f"adapter-{p.entity}.dead-letter",
            "send",
            dlq,
            ADAPTER,
            "File an unprocessable request.",
            extra_tags=(entity_tag(p.entity, p.name),),
        )
    w.operation(
        "operator.read-dead-letters",
        "receive",
        dlq,
        OPERATOR,
        "List the letters (`ventanilla dlq`) and retry one on its original subject.",
    )


def _sites(w: AsyncApiWriter) -> None:
    site = {"description": "The MAC Express site's id.", "examples": ["pias-napo"]}
    outbox = w.channel(
        "site.outbox",
        sites.outbox_submit_case("{site}", "{channel}"),
        "At a MAC Express site: the cases its advisor took, in the site's own outgoing stream; "
        "the hub sources them over the leaf link into the site's inbound stream.",
        (
            Message(
                name="SubmitCase",
                key="SubmitCase",
                title="Submit a case",
                payload=w.schema(SubmitCase),
                headers=_headers(),
                summary="Nats-Msg-Id is `submit:<case id>`: a channel's retry is one case.",
            ),
        ),
        parameters={
            "site": site,
            "channel": {
                "description": "The site's channel.",
                "examples": [sites.site_channel("pias-napo")],
            },
        },
    )
    w.operation("site.take-case", "send", outbox, SITE, "Keep a case until the link is up.")
    w.operation(
        "site-relay.take-site-cases",
        "receive",
        outbox,
        SITE_RELAY_ROLE,
        "Take a site's case from the hub's inbound copy.",
    )
    status = w.channel(
        "site.status",
        sites.status_subjects("{site}").removesuffix(">") + "{case_id}",
        "At the hub: the latest status of each of a site's cases; the site copies it.",
        (
            Message(
                name="CaseView", key="CaseView", title="A case's status", payload=w.schema(CaseView)
            ),
        ),
        parameters={"site": site, "case_id": HEX_CASE_ID},
    )
    w.operation("site-relay.send-status", "send", status, SITE_RELAY_ROLE, "Send a status back.")
    w.operation("site.copy-status", "receive", status, SITE, "Copy its cases' statuses.")


def bus_document(packages: tuple[EntityPackage, ...] | None = None) -> dict[str, Any]:
    """The document for `packages` (by default every registered entity package)."""
    chosen = tuple(entity_packages().values()) if packages is None else packages
    chosen = tuple(sorted(chosen, key=lambda p: p.entity))
    w = AsyncApiWriter()
    _commands(w)
    for package in chosen:
        _entity(w, package)
    _events(w)
    _queries(w)
    _status_bucket(w)
    _heartbeats(w, chosen)
    _dead_letters(w, chosen)
    _sites(w)
    return {
        "asyncapi": "3.0.0",
        "id": "urn:pe:gob:mac:ventanilla:bus",
        "info": {
            "title": TITLE,
            "version": version("ventanilla"),
            "description": DESCRIPTION,
            "tags": w.tags(),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "The `make up` stack's nats-server (another port when 4222 is "
                "taken: `ventanilla up` says which).",
            }
        },
        "channels": w.channels,
        "operations": w.operations,
        "components": w.components(),
    }


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, no timestamps, one trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@cache
def bus_contract() -> str:
    """The document of this installation's registered entities, rendered once per process."""
    return render(bus_document())
