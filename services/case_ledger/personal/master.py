"""The master key: it wraps every citizen's data key and names citizens by a keyed pseudonym.

A file holding 32 random bytes (as `ventanilla-master-key-v1:<base64>`, mode 0600), created on
first use; by default `ledger/personal-data-master.key` in the data dir. It never enters the
ledger's database, so a copy of the database alone reveals no personal value and cannot even
tell which DNI a key belongs to. Two subkeys are derived from it (HKDF-SHA256): one wraps data
keys (AES-GCM, bound to the key id), the other computes pseudonyms (HMAC-SHA256 of the DNI).

A rotated master key (`ventanilla-master-key-v2:<base64 secret>:<base64 pseudonym key>`) has a
new secret, and so a new wrapping key, but keeps the pseudonym key of the one it replaced: a
pseudonym cannot be recomputed without the DNI it hides, and the key table holds none.
"""

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "ventanilla-master-key-v1:"
PREFIX_V2 = "ventanilla-master-key-v2:"
KEY_SIZE = 32
NONCE_SIZE = 12


class BadMasterKey(ValueError):
    """The master key file is unreadable, or it is not the key that wrapped the data keys."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(hashes.SHA256(), KEY_SIZE, salt=None, info=b"ventanilla " + purpose).derive(secret)


class MasterKey:
    def __init__(self, secret: bytes, pseudonym_key: bytes | None = None) -> None:
        """`pseudonym_key`: kept from the key this one replaced; derived from `secret` if None."""
        if len(secret) != KEY_SIZE:
            raise BadMasterKey(f"a master key has {KEY_SIZE} bytes, not {len(secret)}")
        if pseudonym_key is not None and len(pseudonym_key) != KEY_SIZE:
            raise BadMasterKey(f"a pseudonym key has {KEY_SIZE} bytes, not {len(pseudonym_key)}")
        self._secret = secret
        self._wrapping = AESGCM(_derive(secret, b"data key wrapping"))
        self._own_pseudonyms = pseudonym_key is None
        self._pseudonyms = pseudonym_key or _derive(secret, b"citizen pseudonyms")
        # Recorded beside each wrapped key, so a wrong master key is named, not guessed at.
        self.key_id = hashlib.sha256(b"ventanilla master key id\x00" + secret).hexdigest()[:16]

    @classmethod
    def generate(cls) -> "MasterKey":
        return cls(os.urandom(KEY_SIZE))

    def text(self) -> str:
        if self._own_pseudonyms:
            return PREFIX + base64.b64encode(self._secret).decode()
        secret, pseudonyms = (
            base64.b64encode(k).decode() for k in (self._secret, self._pseudonyms)
        )
        return f"{PREFIX_V2}{secret}:{pseudonyms}"

    def successor(self) -> "MasterKey":
        """A new master key that names citizens by the same pseudonyms."""
        return MasterKey(os.urandom(KEY_SIZE), self._pseudonyms)

    def pseudonym(self, document_number: str) -> str:
        """The citizen's name in the key store: useless without this key, stable with it."""
        message = f"DNI:{document_number}".encode()
        return hmac.new(self._pseudonyms, message, hashlib.sha256).hexdigest()

    def wrap(self, key_id: str, data_key: bytes) -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._wrapping.encrypt(nonce, data_key, key_id.encode())

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        try:
            return self._wrapping.decrypt(
                wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], key_id.encode()
            )
        except InvalidTag:
            raise BadMasterKey(
                f"the data key {key_id} does not open with master key {self.key_id}"
            ) from None


def load_master_key(path: Path, *, create: bool = True) -> MasterKey:
    """The master key in `path`, created there (0600) when missing and `create` is set."""
    if not path.exists():
        if not create:
            raise BadMasterKey(f"no personal data master key at {path}")
        return _create(path)
    return parse_master_key(path.read_text().strip(), str(path))


def parse_master_key(text: str, where: str = "the master key") -> MasterKey:
    try:
        if text.startswith(PREFIX):
            return MasterKey(base64.b64decode(text[len(PREFIX) :], validate=True))
        if text.startswith(PREFIX_V2):
            secret, _, pseudonyms = text[len(PREFIX_V2) :].partition(":")
            return MasterKey(
                base64.b64decode(secret, validate=True), base64.b64decode(pseudonyms, validate=True)
            )
    except binascii.Error as exc:
        raise BadMasterKey(f"{where}: {exc}") from None
    raise BadMasterKey(f"{where} is not a Ventanilla master key ({PREFIX}…)")


def write_draft(path: Path, key: MasterKey) -> Path:
    """The key written beside `path` (0600, flushed to disk), to be linked or renamed in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key.text() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return draft


def _create(path: Path) -> MasterKey:
    key = MasterKey.generate()
    # Written aside, then linked into place: no process ever reads a half-written key.
    draft = write_draft(path, key)
    try:
        os.link(draft, path)
    except FileExistsError:  # another process created it first: use theirs
        return load_master_key(path, create=False)
    finally:
        draft.unlink()
    return key
