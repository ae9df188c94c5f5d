"""Checking the whole ledger: every case's hash chain, then every signed checkpoint.

One pass over the stored events in ledger order. Each event's hash is recomputed from what is
stored (from `from_position` on; earlier events are taken as already verified), then each case's
events are checked in version order: none missing, each linked to the one before, recorded in
that order. Checkpoints are checked against the trusted public key and against the Merkle root
of the events they cover. Every problem names the event (case, version, position) and what is
wrong; `verify_ledger` returns them in ledger order, so the first is the earliest damage.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .eventhash import GENESIS, NotSealed, event_hash, unseal
from .merkle import Frontier, leaf_hash
from .records import LedgerRecord
from .signed import Checkpoint, KeyRing, check_signature


@dataclass(frozen=True)
class Finding:
    what: str
    position: int | None = None
    case_id: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        where = []
        if self.case_id is not None:
            where.append(f"case {self.case_id}")
        if self.version is not None:
            where.append(f"event {self.version}")
        if self.position is not None:
            where.append(f"position {self.position}")
        return f"{', '.join(where)}: {self.what}" if where else self.what


@dataclass(frozen=True)
class _Entry:
    position: int
    version: int
    prev: bytes
    own: bytes


@dataclass
class Report:
    events: int
    cases: int
    checkpoints: int
    findings: list[Finding]

    @property
    def intact(self) -> bool:
        return not self.findings


def verify_ledger(
    records: Iterable[LedgerRecord],
    checkpoints: Sequence[Checkpoint] = (),
    public_key: KeyRing | Ed25519PublicKey | None = None,
    from_position: int = 0,
) -> Report:
    findings: list[Finding] = []
    cases: dict[str, list[_Entry]] = defaultdict(list)
    leaves: list[tuple[int, bytes]] = []
    for record in records:
        entry = _entry(record, check=record.position >= from_position, findings=findings)
        if entry is not None:
            cases[record.case_id].append(entry)
            leaves.append((record.position, entry.own))
    for case_id, entries in cases.items():
        findings += _check_case(case_id, entries, from_position)
    covered = [c for c in checkpoints if c.position >= from_position]
    findings += check_checkpoints(leaves, covered, public_key)
    findings.sort(key=lambda f: (f.position is None, f.position or 0))
    return Report(len(leaves), len(cases), len(covered), findings)


def _entry(record: LedgerRecord, *, check: bool, findings: list[Finding]) -> _Entry | None:
    def found(what: str) -> None:
        findings.append(Finding(what, record.position, record.case_id, record.version))

    try:
        sealed = unseal(record.state)
    except NotSealed:
        found("the stored event has no hash-chain header")
        return None
    entry = _Entry(record.position, record.version, sealed.prev_hash, sealed.event_hash)
    if not check:
        return entry
    computed = event_hash(
        record.case_id, record.version, record.topic, sealed.prev_hash, sealed.payload
    )
    if computed == sealed.event_hash:
        return entry
    for other in (record.version - 1, record.version + 1):
        recomputed = event_hash(
            record.case_id, other, record.topic, sealed.prev_hash, sealed.payload
        )
        if other > 0 and recomputed == sealed.event_hash:
            found(f"holds the content of event {other}: events swapped or moved")
            return entry
    found("what is stored does not match its hash: the event was altered")
    return entry


def _check_case(case_id: str, entries: list[_Entry], from_position: int) -> list[Finding]:
    findings: list[Finding] = []
    entries.sort(key=lambda e: e.version)
    by_hash = {e.own: e.version for e in entries}
    previous: _Entry | None = None
    for entry in entries:
        expected = previous.version + 1 if previous else 1

        def found(what: str, at: _Entry = entry) -> None:
            if at.position >= from_position:
                findings.append(Finding(what, at.position, case_id, at.version))

        if entry.version > expected:
            missing = (
                f"event {expected}"
                if entry.version == expected + 1
                else f"events {expected} to {entry.version - 1}"
            )
            found(f"{missing} missing: this event follows event {expected - 1} in the store")
        elif previous is not None and entry.prev != previous.own:
            linked = by_hash.get(entry.prev)
            if linked is not None and linked < previous.version:
                found(
                    f"its chain skips to event {linked}: event {linked + 1} was inserted before it"
                )
            else:
                found(f"its predecessor hash does not match event {previous.version}")
        elif previous is None and entry.version == 1 and entry.prev != GENESIS:
            found("the case's first event does not start a chain")
        if previous is not None and previous.position > entry.position:
            found(
                f"recorded at position {previous.position}, after event {entry.version} "
                f"(position {entry.position}): inserted or moved later",
                at=previous,
            )
        previous = entry
    return findings


def check_checkpoints(
    leaves: Sequence[tuple[int, bytes]],
    checkpoints: Sequence[Checkpoint],
    public_key: KeyRing | Ed25519PublicKey | None,
) -> list[Finding]:
    """Each checkpoint against the key and against the events it covers (`leaves` in order)."""
    findings: list[Finding] = []
    hashes = dict(leaves)
    frontier, i = Frontier(), 0
    for number, cp in enumerate(sorted(checkpoints, key=lambda c: c.position), start=1):
        name = f"checkpoint {number} (position {cp.position}, signed {cp.signed_at})"
        if public_key is not None:
            problem = check_signature(cp, public_key)
            if problem:
                findings.append(Finding(f"{name}: {problem}", cp.position))
                continue
        while i < len(leaves) and leaves[i][0] <= cp.position:
            frontier.append(leaf_hash(*leaves[i]))
            i += 1
        head = cp.head
        if head is not None and hashes.get(head.position) is None:
            findings.append(
                Finding(
                    f"missing, though {name} covers it: the ledger was cut after "
                    f"position {max((p for p, _ in leaves if p < head.position), default=0)}",
                    head.position,
                    head.case_id,
                    head.version,
                )
            )
        elif head is not None and hashes[head.position].hex() != head.event_hash:
            findings.append(
                Finding(
                    f"differs from the event {name} covers: the history was rewritten",
                    head.position,
                    head.case_id,
                    head.version,
                )
            )
        elif frontier.size != cp.tree_size:
            findings.append(
                Finding(
                    f"{name} covers {cp.tree_size} events, the ledger holds {frontier.size} "
                    "up to that position: events were removed or added",
                    cp.position,
                )
            )
        elif frontier.root().hex() != cp.root:
            findings.append(
                Finding(f"{name}: the events it covers were rewritten (Merkle root)", cp.position)
            )
    return findings
