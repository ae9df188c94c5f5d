"""How one stored case event is sealed into its case's hash chain.

The seal lives inside the stored record itself (the `state` column), not in a side table:

    state = b"VCH1" || prev_hash (32 bytes) || event_hash (32 bytes) || payload

`payload` is what eventsourcing's mapper produced (JSON). `event_hash` is SHA-256 over the case
id, the version, the topic, `prev_hash` and `payload`: every column of the row except the hash
itself. Keeping the seal in the row means any copy of the events table (a backup, a replica, a
dump handed to an auditor) carries its own evidence, the same code works on SQLite, PostgreSQL
and in memory without touching eventsourcing's SQL, and no second table can drift from the first.

Only the standard library: the offline bundle verifier imports this module.
"""

import hashlib
import struct
from dataclasses import dataclass

MAGIC = b"VCH1"
HASH_SIZE = 32
HEADER_SIZE = len(MAGIC) + 2 * HASH_SIZE
GENESIS = bytes(HASH_SIZE)  # the "previous hash" of a case's first event
_DOMAIN = b"ventanilla-event-v1\x00"


class NotSealed(ValueError):
    """A stored state without the chain header."""


@dataclass(frozen=True)
class Sealed:
    prev_hash: bytes
    event_hash: bytes
    payload: bytes


def _field(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def event_hash(case_id: str, version: int, topic: str, prev_hash: bytes, payload: bytes) -> bytes:
    """The hash of an event as stored: every column of its row and its predecessor's hash."""
    digest = hashlib.sha256(_DOMAIN)
    digest.update(_field(case_id.encode()))
    digest.update(struct.pack(">Q", version))
    digest.update(_field(topic.encode()))
    digest.update(prev_hash)
    digest.update(payload)
    return digest.digest()


def seal(case_id: str, version: int, topic: str, prev_hash: bytes, payload: bytes) -> bytes:
    """The state to store: the chain header followed by the payload."""
    own = event_hash(case_id, version, topic, prev_hash, payload)
    return MAGIC + prev_hash + own + payload


def unseal(state: bytes) -> Sealed:
    if len(state) < HEADER_SIZE or not state.startswith(MAGIC):
        raise NotSealed("the stored state has no chain header")
    prev = state[len(MAGIC) : len(MAGIC) + HASH_SIZE]
    own = state[len(MAGIC) + HASH_SIZE : HEADER_SIZE]
    return Sealed(prev_hash=bytes(prev), event_hash=bytes(own), payload=bytes(state[HEADER_SIZE:]))


def stored_hash(state: bytes) -> bytes:
    """The event hash written in a stored state, without checking it."""
    return unseal(state).event_hash
