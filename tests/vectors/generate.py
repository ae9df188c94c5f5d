"""Writes the bundle test vectors in this folder: genuine bundles and tampered variants.

    PYTHONPATH=. .venv/bin/python tests/vectors/generate.py

The keys are derived from fixed, published seeds (test keys: they sign nothing else), so anyone
can check the vectors; the events themselves hold fresh ids and times, so a new run writes new
files. `manifest.json` lists each file with the verdict a verifier must reach and why.
"""

import base64
import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.keys import key_list_document, listed, public_key_text
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.audit.signed import CaseHead, Checkpoint
from services.case_ledger.store import LedgerStore
from tests.factories import run_case, submit_command

HERE = Path(__file__).parent
Bundle = dict[str, Any]


def seeded_key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(name.encode()).digest())


def write_key(path: Path, key: Ed25519PrivateKey) -> None:
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))


def dump(bundle: Bundle) -> str:
    return json.dumps(bundle, indent=2) + "\n"


def genuine_bundles(folder: Path) -> tuple[Bundle, Bundle]:
    """A completed duplicado-dni case, and a case exported after the signing key was rotated."""
    ledger = CaseLedger(catalog(), LedgerStore.sqlite(folder / "ledger.sqlite").environment())
    files = AuditFiles(folder / "signing-key.pem", folder / "checkpoints.jsonl")
    write_key(files.signing_key, seeded_key("ventanilla test vector key 1"))
    audit = LedgerAudit(ledger.recorder, files)
    other = submit_command("40000007")
    ledger.submit_case(other)  # interleaved, so the proofs pass through another case's events
    case_id = run_case(ledger, submit_command("40000001"))
    genuine = audit.export(str(case_id))
    # Rotation: the checkpoint stays signed by key 1, the new case head by key 2.
    write_key(files.signing_key, seeded_key("ventanilla test vector key 2"))
    rotated = audit.export(str(other.envelope.case_id))
    ledger.close()
    return genuine, rotated


def resign(bundle: Bundle, key: Ed25519PrivateKey) -> Bundle:
    """The same bundle with its checkpoint and case head signed by `key` (a forger's)."""
    from services.case_ledger.audit.bundle_format import read_document
    from services.case_ledger.audit.signed import key_id

    document = read_document(bundle)
    cp = Checkpoint(**{**document.checkpoint.__dict__, "key_id": key_id(key.public_key())})
    head = CaseHead(**{**document.case_head.__dict__, "key_id": key_id(key.public_key())})
    return {
        **bundle,
        "checkpoint": cp.signed(key).to_json(),
        "case_head": head.signed(key).to_json(),
    }


def edit(bundle: Bundle, change: Callable[[Bundle], None]) -> str:
    copy = json.loads(json.dumps(bundle))
    change(copy)
    return dump(copy)


def flip_state_byte(event: dict[str, Any]) -> None:
    state = bytearray(base64.b64decode(event["state"]))
    state[-3] ^= 0x01
    event["state"] = base64.b64encode(bytes(state)).decode()


def variants(genuine: Bundle) -> list[tuple[str, str, str, str]]:
    """(file, content, verdict, what) for every tampered variant."""
    text = dump(genuine)
    events = genuine["events"]
    forged_list = json.dumps(events[:2])
    duplicate = text.replace('"events": [', f'"events": {forged_list},\n  "events": [', 1)
    out: list[tuple[str, str, str, str]] = []

    def add(name: str, content: str, verdict: str, what: str) -> None:
        out.append((f"{name}.bundle.json", content, verdict, what))

    def event_field(index: int, field: str, value: Any) -> Callable[[Bundle], None]:
        return lambda b: b["events"][index].__setitem__(field, value)

    add(
        "truncated-tail",
        edit(genuine, lambda b: b.__setitem__("events", events[:-2])),
        "incomplete",
        "the case's last two events dropped",
    )
    add(
        "dropped-middle",
        edit(genuine, lambda b: b["events"].pop(2)),
        "incomplete",
        "event 3 dropped",
    )
    add(
        "no-events",
        edit(genuine, lambda b: b.__setitem__("events", [])),
        "incomplete",
        "every event dropped",
    )
    add(
        "duplicate-key",
        duplicate,
        "malformed",
        "the key events twice: a forged list, then the genuine one",
    )
    add(
        "position-fraction",
        edit(genuine, event_field(2, "position", 3.7)),
        "malformed",
        "position 3.7",
    )
    add(
        "position-float-integer",
        text.replace(
            f'"position": {events[0]["position"]},', f'"position": {events[0]["position"]}.0,', 1
        ),
        "malformed",
        "position written 1.0",
    )
    add("version-string", edit(genuine, event_field(1, "version", "2")), "malformed", 'version "2"')
    add(
        "version-padded",
        edit(genuine, event_field(1, "version", " 02 ")),
        "malformed",
        'version " 02 "',
    )
    add(
        "version-boolean",
        edit(genuine, event_field(0, "version", True)),
        "malformed",
        "version true",
    )
    add(
        "leaf-index-string",
        edit(genuine, event_field(1, "leaf_index", str(events[1]["leaf_index"]))),
        "malformed",
        "leaf index as a string",
    )
    add(
        "leaf-index-negative",
        edit(genuine, event_field(1, "leaf_index", -1)),
        "malformed",
        "leaf index -1",
    )
    add(
        "proof-upper-case",
        edit(genuine, event_field(1, "proof", [n.upper() for n in events[1]["proof"]])),
        "malformed",
        "upper-case hex in a proof",
    )
    add(
        "hash-copy-upper-case",
        edit(genuine, event_field(1, "event_hash", events[1]["event_hash"].upper())),
        "malformed",
        "upper-case hex in a hash copy",
    )
    add(
        "checkpoint-extra-field",
        edit(genuine, lambda b: b["checkpoint"].__setitem__("note", "x")),
        "malformed",
        "a field the checkpoint format does not define",
    )
    add(
        "event-extra-field",
        edit(genuine, event_field(0, "comment", "ok")),
        "malformed",
        "a field the event format does not define",
    )
    add(
        "top-extra-field",
        edit(genuine, lambda b: b.__setitem__("verified", True)),
        "malformed",
        "a field the bundle format does not define",
    )
    mime = events[0]["state"][:76] + "\n" + events[0]["state"][76:]
    add(
        "state-base64-line-break",
        edit(genuine, event_field(0, "state", mime)),
        "malformed",
        "state base64 broken into MIME lines",
    )
    add(
        "format-1",
        edit(genuine, lambda b: b.__setitem__("format", "ventanilla-case-bundle/1")),
        "malformed",
        "the earlier format, which cannot show completeness",
    )
    add(
        "altered-state",
        edit(genuine, lambda b: flip_state_byte(b["events"][3])),
        "tampered",
        "one byte of event 4's stored state changed",
    )
    hash_copy = "0" * 64
    add(
        "hash-copy-differs",
        edit(genuine, event_field(2, "prev_hash", hash_copy)),
        "tampered",
        "a hex hash copy that differs from the state",
    )
    add(
        "swapped-events",
        edit(
            genuine,
            lambda b: b["events"].__setitem__(
                slice(1, 3), [dict(events[2], version=2), dict(events[1], version=3)]
            ),
        ),
        "tampered",
        "events 2 and 3 swapped, versions renumbered",
    )
    add(
        "forged-checkpoint",
        edit(
            genuine,
            lambda b: b["checkpoint"].__setitem__("tree_size", b["checkpoint"]["tree_size"] + 1),
        ),
        "forged",
        "the checkpoint's tree size changed under its signature",
    )
    add(
        "forged-case-head",
        edit(genuine, lambda b: b["case_head"].__setitem__("final", False)),
        "forged",
        "the case head's final flag changed under its signature",
    )
    add(
        "foreign-key",
        dump(resign(genuine, seeded_key("a forger's key"))),
        "untrusted",
        "checkpoint and case head re-signed by a key the verifier does not trust",
    )
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        genuine, rotated = genuine_bundles(Path(tmp))
    key1 = seeded_key("ventanilla test vector key 1").public_key()
    key2 = seeded_key("ventanilla test vector key 2").public_key()
    (HERE / "public-key.txt").write_text(public_key_text(key1) + "\n")
    first = listed(key1, "2026-01-01T00:00:00+00:00")
    keys = [
        type(first)(**{**first.__dict__, "retired_at": "2026-06-01T00:00:00+00:00"}),
        listed(key2, "2026-06-01T00:00:00+00:00"),
    ]
    (HERE / "checkpoint-keys.json").write_text(json.dumps(key_list_document(keys), indent=2) + "\n")
    manifest = [
        {
            "file": "genuine.bundle.json",
            "keys": "public-key.txt",
            "verdict": "verified",
            "what": "a completed duplicado-dni case, as exported",
        },
        {
            "file": "rotated.bundle.json",
            "keys": "checkpoint-keys.json",
            "verdict": "verified",
            "what": "a case in progress; checkpoint by retired key 1, case head by key 2",
        },
        {
            "file": "rotated.bundle.json",
            "keys": "public-key.txt",
            "verdict": "untrusted",
            "what": "the same, checked with key 1 only",
        },
    ]
    (HERE / "genuine.bundle.json").write_text(dump(genuine))
    (HERE / "rotated.bundle.json").write_text(dump(rotated))
    for name, content, verdict, what in variants(genuine):
        (HERE / name).write_text(content)
        manifest.append({"file": name, "keys": "public-key.txt", "verdict": verdict, "what": what})
    (HERE / "not-utf8.bundle.json").write_bytes(
        dump(genuine).encode().replace(b"CaseSubmitted", b"Case\xffubmitted", 1)
    )
    manifest.append(
        {
            "file": "not-utf8.bundle.json",
            "keys": "public-key.txt",
            "verdict": "malformed",
            "what": "a byte that is not UTF-8",
        }
    )
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
