"""Who takes part on the bus, as the document tags its operations.

The roles are the bus users of services/bus/permissions.py and services/sites/permissions.py:
what a role's operations say it sends or receives is what its NATS user may publish or read.
"""

from .builder import Role

GATEWAY = Role(
    "role:gateway",
    "The HTTP gateway: submits its clients' cases, asks the ledger, reads and watches the "
    "status bucket (it claims idempotency keys in its own bucket, which no other role reads).",
)
CHANNEL = Role(
    "role:channel",
    "A MAC channel connecting over NATS (a kiosk's leaf node): publishes its own SubmitCase "
    "commands only.",
)
LEDGER_ROLE = Role(
    "role:ledger",
    "The case ledger: records commands and results, dispatches steps, announces events, "
    "writes the status bucket and answers queries.",
)
SITE = Role(
    "role:site",
    "A MAC Express site's own stack, a leaf node of the hub with its own JetStream domain.",
)
SITE_RELAY_ROLE = Role(
    "role:site-relay",
    "The hub's site relay: each site's cases to the ledger, each case's status back to its site.",
)
OPERATOR = Role("role:operator", "Operators (`ventanilla dlq`, as the bus owner `admin`).")
METRICS = Role("role:metrics", "The bus's Prometheus endpoint (`ventanilla metrics`).")


ADAPTER = Role(
    "role:entity-adapter",
    "An entity adapter (FastStream adapter SDK): takes its entity's step requests through its "
    "durable consumer, answers them, files its own dead letters. Each of its operations also "
    "carries its entity's tag, `entity:<entity id>`.",
)


def entity_tag(entity: str, name: str) -> Role:
    """The tag of one entity's operations, beside its role's."""
    return Role(f"entity:{entity}", f"{name}: its adapter's operations and the ledger's with it.")
