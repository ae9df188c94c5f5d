"""A small writer of AsyncAPI 3.0 documents: channels, messages, operations tagged by role.

It writes only what the bus needs (parameters, headers, request/reply) and keeps every name it
is given, so the document's keys are the code's names and the output is the same on every run.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from .payloads import Payloads

Action = Literal["send", "receive"]


@dataclass(frozen=True)
class SchemaRef:
    """A model's schema, by `$ref`: its name is known only once every model is rendered."""

    model: type[BaseModel]


@dataclass(frozen=True)
class Role:
    """Who takes part on the bus; every operation is tagged with its role's tag."""

    tag: str
    description: str


@dataclass(frozen=True)
class Message:
    """A message of a channel: its name there, its component's key and its content."""

    name: str
    key: str
    title: str
    payload: Any  # a JSON Schema, possibly holding SchemaRefs
    summary: str | None = None
    headers: dict[str, Any] | None = None


@dataclass(frozen=True)
class Reply:
    """Where the answer to a request goes: the requester's own inbox (the NATS reply subject)."""

    channel: str
    messages: tuple[str, ...]


@dataclass
class AsyncApiWriter:
    payloads: Payloads = field(default_factory=Payloads)
    channels: dict[str, Any] = field(default_factory=dict)
    operations: dict[str, Any] = field(default_factory=dict)
    messages: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)

    def schema(self, model: type[BaseModel]) -> "SchemaRef":
        self.payloads.add(model)
        return SchemaRef(model)

    def channel(
        self,
        key: str,
        address: str | None,
        description: str,
        messages: tuple[Message, ...],
        parameters: dict[str, dict[str, Any]] | None = None,
        bindings: dict[str, Any] | None = None,
    ) -> str:
        if key in self.channels:
            raise ValueError(f"channel {key!r} described twice")
        for message in messages:
            content: dict[str, Any] = {
                "name": message.name,
                "title": message.title,
                "contentType": "application/json",
                "payload": message.payload,
            }
            if message.summary:
                content["summary"] = message.summary
            if message.headers:
                content["headers"] = message.headers
            if self.messages.setdefault(message.key, content) != content:
                raise ValueError(f"message {message.key!r} described twice, differently")
        channel: dict[str, Any] = {
            "address": address,
            "description": description,
            "messages": {m.name: {"$ref": f"#/components/messages/{m.key}"} for m in messages},
        }
        if parameters:
            channel["parameters"] = parameters
        if bindings:
            channel["bindings"] = bindings
        self.channels[key] = channel
        return key

    def operation(
        self,
        key: str,
        action: Action,
        channel: str,
        role: Role,
        summary: str,
        messages: tuple[str, ...] | None = None,
        reply: Reply | None = None,
        extra_tags: tuple[Role, ...] = (),
        base: dict[str, Any] | None = None,
    ) -> None:
        """`messages`: names of the channel's messages (all of them when omitted)."""
        if key in self.operations:
            raise ValueError(f"operation {key!r} described twice")
        for tag in (role, *extra_tags):
            self.roles.setdefault(tag.tag, tag)
        names = messages if messages is not None else tuple(self.channels[channel]["messages"])
        operation: dict[str, Any] = {
            **(base or {}),
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in names],
            "summary": summary,
            "tags": [{"name": t.tag} for t in (role, *extra_tags)],
        }
        if reply is not None:
            operation["reply"] = {
                "channel": {"$ref": f"#/channels/{reply.channel}"},
                "messages": [
                    {"$ref": f"#/channels/{reply.channel}/messages/{n}"} for n in reply.messages
                ],
            }
        self.operations[key] = operation

    def components(self) -> dict[str, Any]:
        schemas = self.payloads.render()
        return {"messages": self._resolved(self.messages), "schemas": schemas}

    def _resolved(self, value: Any) -> Any:
        if isinstance(value, SchemaRef):
            return self.payloads.ref(value.model)
        if isinstance(value, dict):
            return {k: self._resolved(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._resolved(v) for v in value]
        return value

    def tags(self) -> list[dict[str, str]]:
        return [{"name": r.tag, "description": r.description} for r in self.roles.values()]
