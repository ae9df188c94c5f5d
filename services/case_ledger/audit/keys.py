"""The ledger's Ed25519 checkpoint key: created once in the data dir (mode 0600), and its
public half as a short text an auditor can pin (`ed25519:<base64>`)."""

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from .signed import raw_public_key

PREFIX = "ed25519:"


class BadKey(ValueError):
    """A key file or key text that is not an Ed25519 key."""


def load_signing_key(path: Path, *, create: bool = False) -> Ed25519PrivateKey:
    if not path.exists():
        if not create:
            raise BadKey(f"no checkpoint signing key at {path}")
        return _create(path)
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKey(f"{path} does not hold an Ed25519 private key")
    return key


def _create(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_signing_key(path)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def public_key_text(key: Ed25519PublicKey) -> str:
    return PREFIX + base64.b64encode(raw_public_key(key)).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """`ed25519:<base64>`, a file holding that text, or a PEM public key file."""
    value = text.strip()
    if not value.startswith(PREFIX) and Path(value).is_file():
        value = Path(value).read_text().strip()
    if value.startswith("-----BEGIN"):
        key = load_pem_public_key(value.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise BadKey("the PEM key is not an Ed25519 public key")
        return key
    if not value.startswith(PREFIX):
        raise BadKey("a public key looks like ed25519:<base64> (see `audit public-key`)")
    try:
        raw = base64.b64decode(value[len(PREFIX) :], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise BadKey(f"not an Ed25519 public key: {exc}") from None
