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

from services.entity_adapters.package import EntityPackage
from services.entity_adapters.registry import entity_packages

from .builder import AsyncApiWriter
from .entities import entity_channels
from .ledger import (
    command_channels,
    event_channels,
    query_channels,
    status_bucket_channels,
    worker_channels,
)
from .mac_express import site_channels
from .monitoring import dead_letter_channels, heartbeat_channels

TITLE = "Ventanilla bus"
DESCRIPTION = """\
Every subject of Ventanilla's NATS bus: the channels' commands, the entities' work and results,
the ledger's events, queries and status bucket, heartbeats and dead letters. Each operation is
tagged with the role that performs it; each role is one NATS user, whose permissions let it
publish the `ventanilla.` subjects its `send` operations name, and no other. Generated from the
code by `ventanilla asyncapi`; see docs/asyncapi.md.
"""


def bus_document(packages: tuple[EntityPackage, ...] | None = None) -> dict[str, Any]:
    """The document for `packages` (by default every registered entity package)."""
    chosen = tuple(entity_packages().values()) if packages is None else packages
    chosen = tuple(sorted(chosen, key=lambda p: p.entity))
    w = AsyncApiWriter()
    command_channels(w)
    for package in chosen:
        entity_channels(w, package)
    event_channels(w)
    query_channels(w)
    worker_channels(w)
    status_bucket_channels(w)
    heartbeat_channels(w, chosen)
    dead_letter_channels(w, chosen)
    site_channels(w)
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
