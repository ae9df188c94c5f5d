"""The checkpoint log: signed Merkle roots, one JSON object a line, appended and never rewritten.

It lives beside the signing key (in the data dir), not in the ledger's database, so cutting the
database does not cut the evidence against it. Auditors should also keep the checkpoints they
receive in bundles: a checkpoint anyone still holds convicts a later rewrite.
"""

import fcntl
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .eventhash import stored_hash
from .merkle import Frontier, leaf_hash
from .records import LedgerRecord
from .signed import Checkpoint, Head, key_id


class BadCheckpointLog(ValueError):
    """A line of the checkpoint log that is not a checkpoint."""


class CheckpointLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[Checkpoint]:
        if not self.path.exists():
            return []
        checkpoints = []
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                checkpoints.append(Checkpoint.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise BadCheckpointLog(f"{self.path}, line {number}: {exc}") from None
        return checkpoints

    def latest(self) -> Checkpoint | None:
        checkpoints = self.read()
        return max(checkpoints, key=lambda c: c.position) if checkpoints else None

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(checkpoint.to_json(), sort_keys=True, separators=(",", ":")) + "\n"
        with self.path.open("a") as out:
            fcntl.flock(out, fcntl.LOCK_EX)  # the ledger and the CLI may both write
            out.write(line)


class SignedTree:
    """The Merkle frontier over the events read so far, grown as the ledger grows.

    The ledger process keeps one for its life, so each periodic checkpoint reads only the events
    recorded since the previous one instead of the whole log (verification still reads it all).
    """

    def __init__(self) -> None:
        self.frontier = Frontier()
        self.last: LedgerRecord | None = None

    def extend(self, records: Iterable[LedgerRecord]) -> None:
        for record in records:
            self.frontier.append(leaf_hash(record.position, stored_hash(record.state)))
            self.last = record

    def sign(self, key: Ed25519PrivateKey, signed_at: datetime | None = None) -> Checkpoint | None:
        """The signed root over every event so far; None before the first one."""
        last = self.last
        if last is None:
            return None
        head = Head(last.position, last.case_id, last.version, stored_hash(last.state).hex())
        moment = (signed_at or datetime.now(UTC)).astimezone(UTC)
        unsigned = Checkpoint(
            position=last.position,
            tree_size=self.frontier.size,
            root=self.frontier.root().hex(),
            head=head,
            signed_at=moment.isoformat(timespec="seconds"),
            key_id=key_id(key.public_key()),
        )
        return unsigned.signed(key)
