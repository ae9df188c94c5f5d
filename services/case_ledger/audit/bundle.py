"""Exporting a case as evidence: its stored events, their inclusion proofs, a signed checkpoint,
and the signed head of the case under that checkpoint (its last event, and whether it had ended),
so a bundle missing any event of the case fails verification.

The format is documented in docs/bundle-format.md and checked by `bundle_check`, which needs
nothing but the bundle and the ledger's public keys.
"""

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.event_types import FINAL_EVENTS

from .bundle_format import FORMAT
from .eventhash import unseal
from .merkle import inclusion_proof, leaf_hash
from .records import LedgerRecord
from .signed import CaseHead, Checkpoint, key_id


class NotCovered(LookupError):
    """The case has events that no checkpoint covers yet."""


def build_bundle(
    case_id: str,
    records: Sequence[LedgerRecord],
    checkpoint: Checkpoint,
    key: Ed25519PrivateKey,
    exported_at: datetime | None = None,
) -> dict[str, Any]:
    """`records`: every stored event up to the checkpoint's position, in ledger order.

    `key` signs the case head; it is the current checkpoint key, which may be newer than the
    key that signed `checkpoint` (each statement names its own key).
    """
    covered = [r for r in records if r.position <= checkpoint.position]
    leaves = [leaf_hash(r.position, unseal(r.state).event_hash) for r in covered]
    if len(leaves) != checkpoint.tree_size:
        raise NotCovered(
            f"the ledger holds {len(leaves)} events up to position {checkpoint.position}, "
            f"the checkpoint {checkpoint.tree_size}: run `ventanilla audit verify`"
        )
    events: list[dict[str, Any]] = []
    subtrees: dict[tuple[int, int], bytes] = {}  # shared by the proofs: most subtrees repeat
    mine: list[LedgerRecord] = []
    for index, record in enumerate(covered):
        if record.case_id != case_id:
            continue
        mine.append(record)
        sealed = unseal(record.state)
        events.append(
            {
                "position": record.position,
                "version": record.version,
                "topic": record.topic,
                "state": base64.b64encode(record.state).decode(),
                "prev_hash": sealed.prev_hash.hex(),
                "event_hash": sealed.event_hash.hex(),
                "leaf_index": index,
                "proof": [node.hex() for node in inclusion_proof(leaves, index, subtrees)],
            }
        )
    if not mine:
        raise NotCovered(f"no event of case {case_id} is covered by the checkpoint")
    moment = (exported_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    last = mine[-1]
    head = CaseHead(
        case_id=case_id,
        checkpoint_position=checkpoint.position,
        checkpoint_root=checkpoint.root,
        version=last.version,
        event_hash=unseal(last.state).event_hash.hex(),
        final=any(r.topic.rpartition(".")[2] in FINAL_EVENTS for r in mine),
        signed_at=moment,
        key_id=key_id(key.public_key()),
    ).signed(key)
    return {
        "format": FORMAT,
        "case_id": case_id,
        "exported_at": moment,
        "checkpoint": checkpoint.to_json(),
        "case_head": head.to_json(),
        "events": events,
    }
