"""A signed checkpoint: the ledger's word, under its Ed25519 key, on every event up to a position.

Only the standard library and `cryptography`: the offline bundle verifier imports it.
"""

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_DOMAIN = b"ventanilla-checkpoint-v1\n"


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(raw_public_key(key)).hexdigest()[:16]


@dataclass(frozen=True)
class Head:
    """The last event a checkpoint covers, so a cut tail is named by its case and version."""

    position: int
    case_id: str
    version: int
    event_hash: str


@dataclass(frozen=True)
class Checkpoint:
    position: int  # the last ledger position covered
    tree_size: int  # how many events the Merkle tree holds (positions may have gaps)
    root: str  # hex Merkle root over those events, in position order
    head: Head | None
    signed_at: str  # ISO 8601, UTC
    key_id: str
    signature: str = field(default="", compare=False)  # base64 Ed25519 over `message()`

    def message(self) -> bytes:
        body = asdict(self)
        body.pop("signature")
        return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed(self, key: Ed25519PrivateKey) -> "Checkpoint":
        signature = base64.b64encode(key.sign(self.message())).decode()
        return Checkpoint(**{**self._fields(), "signature": signature})

    def signature_ok(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Checkpoint":
        head = data.get("head")
        return cls(
            position=int(data["position"]),
            tree_size=int(data["tree_size"]),
            root=str(data["root"]),
            head=Head(**head) if head else None,
            signed_at=str(data["signed_at"]),
            key_id=str(data["key_id"]),
            signature=str(data.get("signature", "")),
        )

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def check_signature(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> str | None:
    """What is wrong with a checkpoint's signature under the trusted key, or None."""
    expected = key_id(public_key)
    if checkpoint.key_id != expected:
        return (
            f"signed with key {checkpoint.key_id}, not the ledger's key {expected} "
            "(re-signed by someone else)"
        )
    if not checkpoint.signature_ok(public_key):
        return "its signature does not verify with the ledger's key (forged or altered)"
    return None
