"""The offline verifier of a case bundle: the bundle and the ledger's public keys, nothing else.

No database, no bus, no network, no eventsourcing: only the standard library, `cryptography`
and five small sibling modules (`bundle_format`, `eventhash`, `keys`, `merkle`, `signed`), so
an auditor can copy these six files to a clean machine. Also runnable on its own:

    python -m services.case_ledger.audit.bundle_check case.bundle.json --public-key ed25519:...

The checks run in the order docs/bundle-format.md lists, and each failure carries the verdict
that section names (`malformed`, `untrusted`, `forged`, `tampered`, `incomplete`).
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .bundle_format import BundleDocument, BundleItem, Malformed, parse_bundle
from .eventhash import GENESIS, NotSealed, Sealed, event_hash, unseal
from .merkle import leaf_hash, verify_inclusion
from .signed import CaseHead, Checkpoint, KeyRing, keyring

MALFORMED = "malformed"  # not a bundle as the format defines it
UNTRUSTED = "untrusted"  # signed by a key the verifier does not trust
FORGED = "forged"  # a signature that does not verify
TAMPERED = "tampered"  # an event altered, reordered, or not under the signed root
INCOMPLETE = "incomplete"  # events of the case missing


@dataclass(frozen=True)
class Problem:
    verdict: str
    what: str

    def __str__(self) -> str:
        return self.what


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
    case_head: CaseHead | None = None
    events: list[BundleEvent] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def verdict(self) -> str:
        """`verified`, or the verdict of the first failed check."""
        return self.problems[0].verdict if self.problems else "verified"

    @property
    def final(self) -> bool:
        return self.case_head is not None and self.case_head.final


def verify_bundle(raw: bytes, trusted: KeyRing | Ed25519PublicKey) -> BundleReport:
    """Check the bundle in `raw` (the file's bytes) against the trusted checkpoint keys."""
    keys = keyring(trusted) if isinstance(trusted, Ed25519PublicKey) else trusted
    try:
        document = parse_bundle(raw)
    except Malformed as exc:
        report = BundleReport(case_id="?")
        report.problems.append(Problem(MALFORMED, f"not a valid bundle: {exc}"))
        return report
    report = BundleReport(document.case_id, document.checkpoint, document.case_head)
    for problem in _statements(document, keys):
        report.problems.append(problem)
        return report
    _events(document, report)
    return report


def _statements(document: BundleDocument, keys: KeyRing) -> list[Problem]:
    """The checkpoint and the case head: by a trusted key, genuine, and about this bundle."""
    cp, head = document.checkpoint, document.case_head
    for name, statement in (
        (f"the checkpoint at position {cp.position}", cp),
        (f"the case head of case {head.case_id}", head),
    ):
        public_key = keys.get(statement.key_id)
        if public_key is None:
            known = " or ".join(sorted(keys)) or "(none given)"
            return [
                Problem(
                    UNTRUSTED,
                    f"{name}: signed with key {statement.key_id}, not the ledger's key {known} "
                    "(re-signed by someone else, or a key you have not been given)",
                )
            ]
        if not statement.signature_ok(public_key):
            return [Problem(FORGED, f"{name}: its signature does not verify (forged or altered)")]
    if head.case_id != document.case_id:
        return [Problem(TAMPERED, f"the case head is of case {head.case_id}, not of this case")]
    if (head.checkpoint_position, head.checkpoint_root) != (cp.position, cp.root):
        return [Problem(TAMPERED, "the case head is stated under another checkpoint")]
    if not document.events:
        return [Problem(INCOMPLETE, f"the bundle holds no events; the case has {head.version}")]
    return []


def _events(document: BundleDocument, report: BundleReport) -> None:
    cp, head = document.checkpoint, document.case_head
    previous_hash, previous_position = GENESIS, 0
    for expected_version, item in enumerate(document.events, start=1):
        problem, sealed = _check_event(item, document, expected_version)
        if problem is None and sealed is not None:
            if item.prev_hash != previous_hash:
                problem = Problem(
                    TAMPERED, f"its predecessor hash does not match event {expected_version - 1}"
                )
            elif item.position <= previous_position:
                problem = Problem(TAMPERED, "recorded before the event it follows")
            else:
                report.events.append(
                    BundleEvent(
                        item.version,
                        item.position,
                        item.topic.rpartition(".")[2],
                        _content(sealed.payload),
                    )
                )
            previous_hash, previous_position = sealed.event_hash, item.position
        if problem is not None:
            report.problems.append(
                Problem(
                    problem.verdict,
                    f"case {report.case_id}, event {item.version}, position {item.position}: "
                    f"{problem.what}",
                )
            )
    last = document.events[-1]
    if last.version < head.version:
        missing = head.version - last.version
        report.problems.append(
            Problem(
                INCOMPLETE,
                f"case {report.case_id}: {missing} events missing after event {last.version}: "
                f"at the checkpoint at position {cp.position} the case's last event was "
                f"{head.version}",
            )
        )
    elif last.version > head.version or last.event_hash.hex() != head.event_hash:
        report.problems.append(
            Problem(
                TAMPERED,
                f"case {report.case_id}, event {last.version}: not the case's last event "
                f"({head.version}) that the case head names",
            )
        )


def _check_event(
    item: BundleItem, document: BundleDocument, expected_version: int
) -> tuple[Problem | None, Sealed | None]:
    cp = document.checkpoint
    if item.version != expected_version:
        verdict = INCOMPLETE if item.version > expected_version else TAMPERED
        return Problem(
            verdict, f"expected event {expected_version}: events missing or out of order"
        ), None
    try:
        sealed = unseal(item.state)
    except NotSealed as exc:
        return Problem(TAMPERED, f"its state is not a sealed event: {exc}"), None
    if sealed.event_hash != item.event_hash or sealed.prev_hash != item.prev_hash:
        return Problem(TAMPERED, "its listed hashes differ from those in the stored state"), None
    computed = event_hash(
        document.case_id, item.version, item.topic, sealed.prev_hash, sealed.payload
    )
    if computed != sealed.event_hash:
        return Problem(
            TAMPERED, "what is stored does not match its hash: the event was altered"
        ), None
    if item.position > cp.position:
        return Problem(TAMPERED, f"after the checkpoint's position {cp.position}"), None
    leaf = leaf_hash(item.position, sealed.event_hash)
    if not verify_inclusion(
        leaf, item.leaf_index, cp.tree_size, item.proof, bytes.fromhex(cp.root)
    ):
        return Problem(
            TAMPERED, "its inclusion proof does not lead to the signed Merkle root"
        ), None
    return None, sealed


def _content(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def main(argv: list[str] | None = None) -> int:
    from .keys import BadKey, parse_trusted_keys

    parser = argparse.ArgumentParser(description="Verify a Ventanilla case bundle offline.")
    parser.add_argument("bundle")
    parser.add_argument(
        "--public-key",
        required=True,
        action="append",
        help="ed25519:<base64>, a key file, or checkpoint-keys.json; repeat for several keys",
    )
    args = parser.parse_args(argv)
    try:
        keys = parse_trusted_keys(args.public_key)
    except BadKey as exc:
        print(f"ERROR {exc}")
        return 2
    with open(args.bundle, "rb") as source:
        report = verify_bundle(source.read(), keys)
    for problem in report.problems:
        print(f"FAIL {problem.verdict}: {problem}")
    if report.intact:
        print(
            f"OK case {report.case_id}: {len(report.events)} events under a signed checkpoint; "
            f"{describe_head(report)}"
        )
    return 0 if report.intact else 1


def describe_head(report: BundleReport) -> str:
    head = report.case_head
    assert head is not None
    if head.final:
        return f"the whole case: final at export, its last event {head.version}"
    return f"the case was still in progress at export, its events up to {head.version}"


if __name__ == "__main__":
    sys.exit(main())
