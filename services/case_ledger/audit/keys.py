"""The ledger's Ed25519 checkpoint keys: the signing key (PEM, mode 0600, in the data dir), the
list of every public key it has had (current and retired, published by the gateway), and the
short texts an auditor pins (`ed25519:<base64>`, fingerprint `SHA256:<hex>`).

Rotating puts a new signing key in place and retires the old one: its private half is deleted,
its public half stays listed, so checkpoints and bundles it signed keep verifying. Reading and
parsing public keys needs only the standard library and `cryptography` (the offline verifier
imports this module); writing keys is the ledger's side.
"""

import base64
import binascii
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from .signed import fingerprint, key_id, raw_public_key

PREFIX = "ed25519:"
KEYS_FORMAT = "ventanilla-checkpoint-keys/1"
KEY_LIST_NAME = "checkpoint-keys.json"  # beside the checkpoint log (DataDir.audit_key_list)


class BadKey(ValueError):
    """A key file or key text that is not an Ed25519 key."""


# --- public keys as text --------------------------------------------------------------------


def public_key_text(key: Ed25519PublicKey) -> str:
    """`ed25519:` and the standard base64 (RFC 4648 section 4, padded) of the 32 raw bytes."""
    return PREFIX + base64.b64encode(raw_public_key(key)).decode()


def public_key_card(key: Ed25519PublicKey) -> str:
    """What `audit public-key` prints: the key, then its fingerprint and key id."""
    return f"{public_key_text(key)}\nfingerprint {fingerprint(key)} key-id {key_id(key)}"


def parse_public_key(text: str) -> Ed25519PublicKey:
    """`ed25519:<base64>` (optionally followed by its fingerprint line, which must match), a
    file holding that text, or a PEM public key file."""
    value = text.strip()
    if not value.startswith(PREFIX) and Path(value).is_file():
        value = Path(value).read_text().strip()
    if value.startswith("-----BEGIN"):
        key = load_pem_public_key(value.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise BadKey("the PEM key is not an Ed25519 public key")
        return key
    first, _, rest = value.partition("\n")
    key = _parse_key_line(first.strip())
    claimed = rest.split()
    if claimed and (
        claimed[:2] != ["fingerprint", fingerprint(key)]
        or claimed[2:]
        not in (
            [],
            ["key-id", key_id(key)],
        )
    ):
        raise BadKey("the fingerprint given beside the key is not that key's")
    return key


def _parse_key_line(value: str) -> Ed25519PublicKey:
    if not value.startswith(PREFIX):
        raise BadKey("a public key looks like ed25519:<base64> (see `audit public-key`)")
    encoded = value[len(PREFIX) :]
    try:
        raw = base64.b64decode(encoded, validate=True)
        if base64.b64encode(raw).decode() != encoded:
            raise ValueError("not canonical padded base64")
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error) as exc:
        raise BadKey(f"not an Ed25519 public key: {exc}") from None


def parse_trusted_keys(texts: Iterable[str]) -> dict[str, Ed25519PublicKey]:
    """The keys a verifier trusts, by key id: each text is a key (see `parse_public_key`) or a
    checkpoint key list (`checkpoint-keys.json`, as the gateway publishes it)."""
    trusted: dict[str, Ed25519PublicKey] = {}
    for text in texts:
        path = Path(text.strip())
        if not text.strip().startswith(PREFIX) and path.is_file() and path.suffix == ".json":
            for entry in read_key_list(path):
                trusted[entry.key_id] = entry.public_key()
        else:
            key = parse_public_key(text)
            trusted[key_id(key)] = key
    return trusted


# --- the list of every checkpoint key -------------------------------------------------------


@dataclass(frozen=True)
class ListedKey:
    key_id: str
    public_key_text: str
    fingerprint: str
    created_at: str
    retired_at: str | None = None

    def public_key(self) -> Ed25519PublicKey:
        key = _parse_key_line(self.public_key_text)
        if key_id(key) != self.key_id or fingerprint(key) != self.fingerprint:
            raise BadKey(f"the key list names key {self.key_id} with another key's bytes")
        return key

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["public_key"] = body.pop("public_key_text")
        return body


def listed(key: Ed25519PublicKey, created_at: str) -> ListedKey:
    return ListedKey(key_id(key), public_key_text(key), fingerprint(key), created_at)


def read_key_list(path: Path) -> list[ListedKey]:
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text())
        if document.get("format") != KEYS_FORMAT:
            raise BadKey(f"{path} is not a {KEYS_FORMAT} document")
        return [
            ListedKey(
                key_id=str(k["key_id"]),
                public_key_text=str(k["public_key"]),
                fingerprint=str(k["fingerprint"]),
                created_at=str(k["created_at"]),
                retired_at=None if k.get("retired_at") is None else str(k["retired_at"]),
            )
            for k in document["keys"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadKey(f"{path}: not a checkpoint key list ({exc})") from None


def key_list_document(keys: Iterable[ListedKey]) -> dict[str, Any]:
    return {"format": KEYS_FORMAT, "keys": [k.to_json() for k in keys]}


def write_key_list(path: Path, keys: list[ListedKey]) -> None:
    _write_atomically(path, (json.dumps(key_list_document(keys), indent=2) + "\n").encode(), 0o644)


# --- the signing key (the ledger's side) ------------------------------------------------------


def load_signing_key(path: Path, *, create: bool = False) -> Ed25519PrivateKey:
    if not path.exists():
        if not create:
            raise BadKey(f"no checkpoint signing key at {path}")
        return _create(path)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKey(f"{path} does not hold an Ed25519 private key")
    return key


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def _create(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_signing_key(path)
    with os.fdopen(fd, "wb") as out:
        out.write(_pem(key))
    return key


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_atomically(path: Path, content: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    os.replace(draft, path)


class CheckpointKeys:
    """The signing key file and the list of every public key beside it."""

    def __init__(self, signing_key: Path, key_list: Path) -> None:
        self.signing_key = signing_key
        self.key_list = key_list

    def current(self, *, create: bool = True) -> Ed25519PrivateKey:
        key = load_signing_key(self.signing_key, create=create)
        self._ensure_listed(key.public_key())
        return key

    def listed(self) -> list[ListedKey]:
        if self.signing_key.exists():
            self._ensure_listed(load_signing_key(self.signing_key).public_key())
        return read_key_list(self.key_list)

    def trusted(self) -> dict[str, Ed25519PublicKey]:
        return {entry.key_id: entry.public_key() for entry in self.listed()}

    def rotate(self) -> tuple[ListedKey, ListedKey]:
        """A new signing key in place of the current one, which is retired: (retired, new)."""
        old = self.current().public_key()
        new = Ed25519PrivateKey.generate()
        now = _now()
        entries = [
            ListedKey(**{**asdict(e), "retired_at": now})
            if e.key_id == key_id(old) and e.retired_at is None
            else e
            for e in read_key_list(self.key_list)
        ]
        fresh = listed(new.public_key(), now)
        # The public half is listed before the private half signs anything, so no checkpoint can
        # name a key the list lacks; the old private key is gone once the new file replaces it.
        write_key_list(self.key_list, [*entries, fresh])
        _write_atomically(self.signing_key, _pem(new), 0o600)
        retired = next(e for e in entries if e.key_id == key_id(old))
        return retired, fresh

    def _ensure_listed(self, key: Ed25519PublicKey) -> None:
        entries = read_key_list(self.key_list)
        if any(e.key_id == key_id(key) for e in entries):
            return
        write_key_list(self.key_list, [*entries, listed(key, _now())])
