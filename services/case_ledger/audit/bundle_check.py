"""The offline verifier of a case bundle: the bundle and the ledger's public key, nothing else.

No database, no bus, no network, no eventsourcing: only the standard library, `cryptography`
and three small sibling modules (`eventhash`, `merkle`, `signed`), so an auditor can copy these
four files to a clean machine. Also runnable on its own:

    python -m services.case_ledger.audit.bundle_check case.bundle.json --public-key ed25519:...
"""

import argparse
import base64
import binascii
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .eventhash import GENESIS, NotSealed, event_hash, unseal
from .merkle import leaf_hash, verify_inclusion
from .signed import Checkpoint, check_signature

FORMAT = "ventanilla-case-bundle/1"


@dataclass(frozen=True)
class BundleEvent:
    version: int
    position: int
    type: str
    content: dict[str, Any]


@dataclass
class BundleReport:
    case_id: str
    checkpoint: Checkpoint | None = None
    events: list[BundleEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_bundle(bundle: dict[str, Any], public_key: Ed25519PublicKey) -> BundleReport:
    report = BundleReport(case_id=str(bundle.get("case_id", "?")))
    if bundle.get("format") != FORMAT:
        report.problems.append(f"not a {FORMAT} bundle (format {bundle.get('format')!r})")
        return report
    try:
        checkpoint = Checkpoint.from_json(bundle["checkpoint"])
    except (KeyError, TypeError, ValueError) as exc:
        report.problems.append(f"the checkpoint is unreadable: {exc}")
        return report
    report.checkpoint = checkpoint
    problem = check_signature(checkpoint, public_key)
    if problem:
        report.problems.append(f"checkpoint at position {checkpoint.position}: {problem}")
        return report
    events = bundle.get("events") or []
    if not events:
        report.problems.append("the bundle holds no events")
    previous_hash, previous_position = GENESIS, 0
    for expected_version, item in enumerate(events, start=1):
        problem, own = _check_event(item, report, checkpoint, expected_version)
        if problem is None and own is not None:
            sealed_prev = bytes.fromhex(item["prev_hash"])
            if sealed_prev != previous_hash:
                problem = f"its predecessor hash does not match event {expected_version - 1}"
            elif item["position"] <= previous_position:
                problem = "recorded before the event it follows"
            previous_hash, previous_position = own, item["position"]
        if problem is not None:
            report.problems.append(
                f"case {report.case_id}, event {item.get('version', '?')}, "
                f"position {item.get('position', '?')}: {problem}"
            )
    return report


def _check_event(
    item: dict[str, Any], report: BundleReport, checkpoint: Checkpoint, expected_version: int
) -> tuple[str | None, bytes | None]:
    try:
        version, position = int(item["version"]), int(item["position"])
        sealed = unseal(base64.b64decode(item["state"], validate=True))
        proof = [bytes.fromhex(node) for node in item["proof"]]
        index = int(item["leaf_index"])
    except (KeyError, TypeError, ValueError, NotSealed, binascii.Error) as exc:
        return f"unreadable: {exc}", None
    if version != expected_version:
        return f"expected event {expected_version}: events missing or out of order", None
    if sealed.event_hash.hex() != item.get("event_hash") or (
        sealed.prev_hash.hex() != item.get("prev_hash")
    ):
        return "its listed hashes differ from those in the stored state", None
    computed = event_hash(report.case_id, version, item["topic"], sealed.prev_hash, sealed.payload)
    if computed != sealed.event_hash:
        return "what is stored does not match its hash: the event was altered", None
    if position > checkpoint.position:
        return f"after the checkpoint's position {checkpoint.position}", None
    leaf = leaf_hash(position, sealed.event_hash)
    root = bytes.fromhex(checkpoint.root)
    if not verify_inclusion(leaf, index, checkpoint.tree_size, proof, root):
        return "its inclusion proof does not lead to the signed Merkle root", None
    report.events.append(
        BundleEvent(version, position, item["topic"].rpartition(".")[2], _content(sealed.payload))
    )
    return None, sealed.event_hash


def _content(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def main(argv: list[str] | None = None) -> int:
    from .keys import parse_public_key

    parser = argparse.ArgumentParser(description="Verify a Ventanilla case bundle offline.")
    parser.add_argument("bundle")
    parser.add_argument("--public-key", required=True, help="ed25519:<base64> or a key file")
    args = parser.parse_args(argv)
    with open(args.bundle, encoding="utf-8") as source:
        report = verify_bundle(json.load(source), parse_public_key(args.public_key))
    for problem in report.problems:
        print(f"FAIL {problem}")
    if report.intact:
        print(f"OK case {report.case_id}: {len(report.events)} events under a signed checkpoint")
    return 0 if report.intact else 1


if __name__ == "__main__":
    sys.exit(main())
