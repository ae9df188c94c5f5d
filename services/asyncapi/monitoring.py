"""What operators watch on the bus: every process's heartbeats, and the dead letters."""

from schemas import subjects
from schemas.heartbeats import Heartbeat
from services.bus.permissions import LEDGER
from services.entity_adapters.package import EntityPackage
from services.sites.permissions import SITE_RELAY

from .builder import AsyncApiWriter, Message
from .headers import message_headers
from .roles import ADAPTER, LEDGER_ROLE, METRICS, OPERATOR, SITE_RELAY_ROLE, entity_tag


def heartbeat_channels(w: AsyncApiWriter, packages: tuple[EntityPackage, ...]) -> None:
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


def dead_letter_channels(w: AsyncApiWriter, packages: tuple[EntityPackage, ...]) -> None:
    entities = tuple(p.entity for p in packages)
    letter = Message(
        name="DeadLetter",
        key="DeadLetter",
        title="Dead letter",
        summary="The original message's bytes, unchanged, with why and where it was stored.",
        payload={"description": "The original bytes (any content: that may be why it is here)."},
        headers=message_headers(
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
