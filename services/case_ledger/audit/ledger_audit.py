"""The audit operations on a running or stored ledger: checkpoint, verify, export.

Given the ledger's notification log (its recorder) and where the checkpoint key and log live.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .bundle import NotCovered, build_bundle
from .checkpoints import CheckpointLog, SignedTree
from .keys import KEY_LIST_NAME, CheckpointKeys
from .records import NotificationLog, read_records
from .signed import Checkpoint, KeyRing, keyring
from .verify import Finding, Report, verify_ledger


class Recorder(NotificationLog, Protocol):
    def max_notification_id(self) -> int | None: ...


@dataclass(frozen=True)
class AuditFiles:
    signing_key: Path
    checkpoints: Path

    @property
    def key_list(self) -> Path:
        """Every public key the ledger has signed with (published by the gateway)."""
        return self.checkpoints.with_name(KEY_LIST_NAME)

    def keys(self) -> CheckpointKeys:
        return CheckpointKeys(self.signing_key, self.key_list)


class LedgerAudit:
    def __init__(self, recorder: Recorder, files: AuditFiles) -> None:
        self.recorder = recorder
        self.files = files
        self.log = CheckpointLog(files.checkpoints)
        self.keys = files.keys()
        self.tree = SignedTree()

    def checkpoint(self) -> Checkpoint | None:
        """Sign every event so far, unless the latest checkpoint already covers them all."""
        stop = self.recorder.max_notification_id() or 0
        latest = self.log.latest()
        if stop == 0 or (latest is not None and latest.position >= stop):
            return latest
        key = self.keys.current()  # read each time: a rotated key takes over at once
        start = self.tree.last.position + 1 if self.tree.last is not None else 1
        self.tree.extend(read_records(self.recorder, start=start, stop=stop))
        checkpoint = self.tree.sign(key)
        if checkpoint is not None:
            self.log.append(checkpoint)
        return checkpoint

    def public_key(self) -> Ed25519PublicKey:
        return self.keys.current().public_key()

    def verify(
        self, from_position: int = 0, public_key: KeyRing | Ed25519PublicKey | None = None
    ) -> Report:
        """Against the given keys, or else every key the data dir lists (current and retired)."""
        trusted: KeyRing | None
        if isinstance(public_key, Ed25519PublicKey):
            trusted = keyring(public_key)
        elif public_key is None and self.files.signing_key.exists():
            trusted = self.keys.trusted()
        else:
            trusted = public_key
        checkpoints = self.log.read()
        report = verify_ledger(read_records(self.recorder), checkpoints, trusted, from_position)
        if checkpoints and trusted is None:
            report.findings.insert(
                0, Finding("checkpoints exist but no public key was given to check them")
            )
        return report

    def export(self, case_id: str) -> dict[str, Any]:
        """The case's bundle under the latest checkpoint (one is signed first if none covers it)."""
        records = list(read_records(self.recorder))
        mine = [r for r in records if r.case_id == case_id]
        if not mine:
            raise LookupError(f"no case {case_id} in the ledger")
        latest = self.log.latest()
        if latest is None or latest.position < mine[-1].position:
            latest = self.checkpoint()
        if latest is None:
            raise NotCovered("no checkpoint covers the case")
        return build_bundle(case_id, records, latest, self.keys.current())
