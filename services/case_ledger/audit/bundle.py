"""Exporting a case as evidence: its stored events, their inclusion proofs, a signed checkpoint.

The format is documented in docs/bundle-format.md and checked by `bundle_check`, which needs
nothing but the bundle and the ledger's public key.
"""

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .eventhash import unseal
from .merkle import inclusion_proof, leaf_hash
from .records import LedgerRecord
from .signed import Checkpoint

FORMAT = "ventanilla-case-bundle/1"


class NotCovered(LookupError):
    """The case has events that no checkpoint covers yet."""


def build_bundle(
    case_id: str,
    records: Sequence[LedgerRecord],
    checkpoint: Checkpoint,
    exported_at: datetime | None = None,
) -> dict[str, Any]:
    """`records`: every stored event up to the checkpoint's position, in ledger order."""
    covered = [r for r in records if r.position <= checkpoint.position]
    leaves = [leaf_hash(r.position, unseal(r.state).event_hash) for r in covered]
    if len(leaves) != checkpoint.tree_size:
        raise NotCovered(
            f"the ledger holds {len(leaves)} events up to position {checkpoint.position}, "
            f"the checkpoint {checkpoint.tree_size}: run `ventanilla audit verify`"
        )
    events: list[dict[str, Any]] = []
    subtrees: dict[tuple[int, int], bytes] = {}  # shared by the proofs: most subtrees repeat
    for index, record in enumerate(covered):
        if record.case_id != case_id:
            continue
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
    moment = (exported_at or datetime.now(UTC)).astimezone(UTC)
    return {
        "format": FORMAT,
        "case_id": case_id,
        "exported_at": moment.isoformat(timespec="seconds"),
        "checkpoint": checkpoint.to_json(),
        "events": events,
    }
