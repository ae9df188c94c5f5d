"""What the bus's messages carry besides their body: headers, and the case id's format."""

from typing import Any

from schemas import subjects

HEX_CASE_ID = {"description": "The case id, 32 hex digits.", "examples": ["0" * 32]}


def message_headers(*extra: tuple[str, str], required: tuple[str, ...] = ()) -> dict[str, Any]:
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
