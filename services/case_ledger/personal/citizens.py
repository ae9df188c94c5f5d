"""One citizen's data key: found by pseudonym when writing, by key id when reading, destroyed on
erasure.

Opened keys are kept in memory for a few seconds (`ttl`), so replaying a case does not query the
key table once per value. An erasure made by another process (the CLI) therefore reaches a
running ledger within `ttl`; the process that erases forgets the key at once.
"""

import os
import threading
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keystore import KeyRow, KeyStore
from .master import KEY_SIZE, BadMasterKey, MasterKey

DEFAULT_TTL = 5.0


class UnknownKey(LookupError):
    """An event quotes a data key this key store never held: the wrong database or key table."""


class CitizenKeys:
    def __init__(
        self,
        store: KeyStore,
        master: MasterKey,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.master = master
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._opened: dict[str, tuple[AESGCM | None, float]] = {}  # key id -> key (None: erased)
        self._ids: dict[str, tuple[str, float]] = {}  # pseudonym -> key id

    def for_citizen(self, document_number: str) -> tuple[str, AESGCM]:
        """The key to encrypt this citizen's values with, created on first use."""
        pseudonym = self.master.pseudonym(document_number)
        cached = self._cached(pseudonym)
        if cached is not None:
            return cached
        row = self.store.find(pseudonym)
        if row is None or row.wrapped is None:
            key_id = os.urandom(16).hex()
            wrapped = self.master.wrap(key_id, AESGCM.generate_key(bit_length=8 * KEY_SIZE))
            row = self.store.add(pseudonym, KeyRow(key_id, wrapped, self.master.key_id))
        key = self._open(row)
        assert key is not None
        with self._lock:
            self._ids[pseudonym] = (row.key_id, self.clock() + self.ttl)
        return row.key_id, key

    def key_id_of(self, document_number: str) -> str | None:
        """The id of the citizen's data key; None if they have none (never seen, or erased)."""
        pseudonym = self.master.pseudonym(document_number)
        cached = self._cached(pseudonym)
        if cached is not None:
            return cached[0]
        row = self.store.find(pseudonym)
        if row is None or row.wrapped is None:
            return None
        # Remembered as `for_citizen` does: the access projection asks once per case.
        with self._lock:
            self._ids[pseudonym] = (row.key_id, self.clock() + self.ttl)
        return row.key_id

    def _cached(self, pseudonym: str) -> tuple[str, AESGCM] | None:
        """The citizen's key id and key as remembered within `ttl` (None: ask the store)."""
        with self._lock:
            cached = self._ids.get(pseudonym)
        if cached is None or cached[1] <= self.clock():
            return None
        key = self.by_id(cached[0])
        return None if key is None else (cached[0], key)

    def by_id(self, key_id: str) -> AESGCM | None:
        """The key a stored value quotes; None when its citizen was erased."""
        with self._lock:
            cached = self._opened.get(key_id)
        if cached is not None and cached[1] > self.clock():
            return cached[0]
        row = self.store.get(key_id)
        if row is None:
            raise UnknownKey(f"no data key {key_id} in the key store of this ledger")
        return self._open(row)

    def erase(self, document_number: str) -> str | None:
        """Destroy the citizen's key; its id, or None when the ledger never held one."""
        pseudonym = self.master.pseudonym(document_number)
        key_id = self.store.erase(pseudonym)
        with self._lock:
            self._ids.pop(pseudonym, None)
            if key_id is not None:
                self._opened[key_id] = (None, float("inf"))  # an erased key never comes back
        return key_id

    def _open(self, row: KeyRow) -> AESGCM | None:
        if row.master_key_id != self.master.key_id:
            raise BadMasterKey(
                f"data key {row.key_id} was wrapped by master key {row.master_key_id}, "
                f"not by the configured one ({self.master.key_id})"
            )
        key = None if row.wrapped is None else AESGCM(self.master.unwrap(row.key_id, row.wrapped))
        with self._lock:
            self._opened[row.key_id] = (key, self.clock() + self.ttl)
        return key
