"""What the ledger signs with its Ed25519 key: checkpoints over every event up to a position, and
the head of one case under such a checkpoint (so a bundle shows it holds the whole case).

Each statement is signed over a domain line followed by the canonical JSON of every field but
`signature` (sorted keys, no whitespace). Only the standard library and `cryptography`: the
offline bundle verifier imports it.
"""

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CHECKPOINT_DOMAIN = b"ventanilla-checkpoint-v1\n"
CASE_HEAD_DOMAIN = b"ventanilla-case-head-v1\n"

# The keys a verifier trusts, by key id: the current checkpoint key and every retired one.
KeyRing = Mapping[str, Ed25519PublicKey]


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """`SHA256:` and the 64 hex digits of SHA-256 over the 32 raw bytes of the public key."""
    return "SHA256:" + hashlib.sha256(raw_public_key(key)).hexdigest()


def key_id(key: Ed25519PublicKey) -> str:
    """A short name for a public key: the first 16 hex digits of its fingerprint."""
    return hashlib.sha256(raw_public_key(key)).hexdigest()[:16]


def keyring(*keys: Ed25519PublicKey) -> dict[str, Ed25519PublicKey]:
    return {key_id(key): key for key in keys}


def canonical_json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class _Signed:
    """A statement whose signature covers every other field; subclasses are frozen dataclasses."""

    DOMAIN = b""
    key_id: str
    signature: str

    def message(self) -> bytes:
        body = asdict(self)  # type: ignore[call-overload]
        body.pop("signature")
        return self.DOMAIN + canonical_json(body)

    def signature_ok(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    def _sign(self, key: Ed25519PrivateKey) -> str:
        return base64.b64encode(key.sign(self.message())).decode()


@dataclass(frozen=True)
class Head:
    """The last event a checkpoint covers, so a cut tail is named by its case and version."""

    position: int
    case_id: str
    version: int
    event_hash: str


@dataclass(frozen=True)
class Checkpoint(_Signed):
    position: int  # the last ledger position covered
    tree_size: int  # how many events the Merkle tree holds (positions may have gaps)
    root: str  # hex Merkle root over those events, in position order
    head: Head | None
    signed_at: str  # ISO 8601, UTC
    key_id: str
    signature: str = field(default="", compare=False)  # base64 Ed25519 over `message()`

    DOMAIN = CHECKPOINT_DOMAIN

    def signed(self, key: Ed25519PrivateKey) -> "Checkpoint":
        return Checkpoint(**{**_fields(self), "signature": self._sign(key)})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Checkpoint":
        """Lenient reading, for the ledger's own checkpoint log; bundles are read strictly."""
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


@dataclass(frozen=True)
class CaseHead(_Signed):
    """The ledger's word on one case at a checkpoint: its last event then, and whether it had ended.

    A bundle whose last event is not this one is missing events, however well the rest verifies.
    """

    case_id: str
    checkpoint_position: int  # the checkpoint this head is stated under
    checkpoint_root: str
    version: int  # the case's last event at or before that position
    event_hash: str
    final: bool  # the case had been completed or rejected: no event of it can follow
    signed_at: str
    key_id: str
    signature: str = field(default="", compare=False)

    DOMAIN = CASE_HEAD_DOMAIN

    def signed(self, key: Ed25519PrivateKey) -> "CaseHead":
        return CaseHead(**{**_fields(self), "signature": self._sign(key)})


def _fields(statement: object) -> dict[str, Any]:
    names = statement.__dataclass_fields__  # type: ignore[attr-defined]
    return {name: getattr(statement, name) for name in names}


def check_signature(statement: _Signed, trusted: KeyRing | Ed25519PublicKey) -> str | None:
    """What is wrong with a statement's signature under the trusted keys, or None."""
    keys = keyring(trusted) if isinstance(trusted, Ed25519PublicKey) else trusted
    public_key = keys.get(statement.key_id)
    if public_key is None:
        known = " or ".join(sorted(keys)) or "(none given)"
        return (
            f"signed with key {statement.key_id}, not the ledger's key {known} "
            "(re-signed by someone else)"
        )
    if not statement.signature_ok(public_key):
        return "its signature does not verify with the ledger's key (forged or altered)"
    return None
