"""Reading a case bundle strictly, as docs/bundle-format.md fixes it to the byte.

A bundle is read once, into typed values, before anything is checked: a document that two
readers could take differently (a key given twice, `1.0` for 1, `"2"` for 2, `true` for 1,
upper-case hex, a field the format does not define) is refused here, so what is verified is
exactly what any viewer shows. Only the standard library: the offline verifier imports it.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from .signed import CaseHead, Checkpoint, Head

FORMAT = "ventanilla-case-bundle/2"
_MAX_INT = 2**63 - 1
_HEX32 = re.compile(r"[0-9a-f]{64}")
_HEXES = re.compile(r"[0-9a-f]*")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00")

TOP_FIELDS = frozenset({"format", "case_id", "exported_at", "checkpoint", "case_head", "events"})
CHECKPOINT_FIELDS = frozenset(
    {"position", "tree_size", "root", "head", "signed_at", "key_id", "signature"}
)
HEAD_FIELDS = frozenset({"position", "case_id", "version", "event_hash"})
CASE_HEAD_FIELDS = frozenset(
    {
        "case_id",
        "checkpoint_position",
        "checkpoint_root",
        "version",
        "event_hash",
        "final",
        "signed_at",
        "key_id",
        "signature",
    }
)
EVENT_FIELDS = frozenset(
    {"position", "version", "topic", "state", "prev_hash", "event_hash", "leaf_index", "proof"}
)


class Malformed(ValueError):
    """The document is not a bundle as the format defines it; the message says where and why."""


@dataclass(frozen=True)
class BundleItem:
    position: int
    version: int
    topic: str
    state: bytes
    prev_hash: bytes  # the hex copies, decoded; the verifier compares them with `state`
    event_hash: bytes
    leaf_index: int
    proof: list[bytes]


@dataclass(frozen=True)
class BundleDocument:
    case_id: str
    exported_at: str  # covered by no signature: informative only
    checkpoint: Checkpoint
    case_head: CaseHead
    events: list[BundleItem]


def parse_bundle(raw: bytes) -> BundleDocument:
    """The bundle in `raw` (UTF-8 JSON), or Malformed naming the first thing out of format."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"not UTF-8: {exc}") from None
    try:
        document = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_int=_integer,
            parse_constant=_no_constant,
        )
    except Malformed:
        raise
    except ValueError as exc:
        raise Malformed(f"not JSON: {exc}") from None
    return read_document(document)


def read_document(document: Any) -> BundleDocument:
    if isinstance(document, dict) and document.get("format") != FORMAT:
        raise Malformed(f"format is {document.get('format')!r}, not {FORMAT!r}")
    top = _object(document, TOP_FIELDS, "the bundle")
    case_id = _uuid(top["case_id"], "case_id")
    return BundleDocument(
        case_id=case_id,
        exported_at=_moment(top["exported_at"], "exported_at"),
        checkpoint=_checkpoint(top["checkpoint"]),
        case_head=_case_head(top["case_head"]),
        events=[_event(item, n) for n, item in enumerate(_list(top["events"], "events"))],
    )


# --- the JSON layer ---------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise Malformed(f"the key {key!r} appears twice in one object")
        found[key] = value
    return found


def _no_float(text: str) -> Any:
    raise Malformed(f"the number {text} is not an integer written as one (no fraction, exponent)")


def _integer(text: str) -> int:
    if text.startswith("-0"):
        raise Malformed(f"the number {text} is not canonical")
    return int(text)


def _no_constant(text: str) -> Any:
    raise Malformed(f"{text} is not JSON")


# --- fields -------------------------------------------------------------------------------


def _object(value: Any, fields: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{where} is not a JSON object")
    missing, unknown = fields - value.keys(), value.keys() - fields
    if missing:
        raise Malformed(f"{where} lacks {', '.join(sorted(missing))}")
    if unknown:
        raise Malformed(
            f"{where} has fields the format does not define: {', '.join(sorted(unknown))}"
        )
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise Malformed(f"{where} is not a JSON array")
    return value


def _count(value: Any, where: str, least: int) -> int:
    # bool is a subclass of int in Python; JSON true is not a number.
    if type(value) is not int:
        raise Malformed(f"{where} is {json.dumps(value)}, not a JSON integer")
    if not least <= value <= _MAX_INT:
        raise Malformed(f"{where} is {value}: it must be from {least} to {_MAX_INT}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise Malformed(f"{where} is not a non-empty JSON string")
    return value


def _pattern(value: Any, pattern: re.Pattern[str], where: str, what: str) -> str:
    text = _text(value, where)
    if not pattern.fullmatch(text):
        raise Malformed(f"{where} is not {what}: {text!r}")
    return text


def _hash(value: Any, where: str) -> str:
    return _pattern(value, _HEX32, where, "64 lower-case hex digits")


def _uuid(value: Any, where: str) -> str:
    return _pattern(value, _UUID, where, "a lower-case UUID (8-4-4-4-12)")


def _moment(value: Any, where: str) -> str:
    return _pattern(value, _MOMENT, where, "a UTC moment like 2026-11-30T10:00:00+00:00")


def _key_id(value: Any, where: str) -> str:
    return _pattern(value, _KEY_ID, where, "16 lower-case hex digits")


def _base64(value: Any, where: str) -> bytes:
    text = _text(value, where)
    try:
        decoded = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise Malformed(f"{where} is not base64: {exc}") from None
    if base64.b64encode(decoded).decode() != text:
        raise Malformed(f"{where} is not canonical padded base64 (RFC 4648 section 4)")
    return decoded


def _signature(value: Any, where: str) -> str:
    if len(_base64(value, where)) != 64:
        raise Malformed(f"{where} is not a 64-byte Ed25519 signature")
    return str(value)


def _checkpoint(value: Any) -> Checkpoint:
    data = _object(value, CHECKPOINT_FIELDS, "the checkpoint")
    head = data["head"]
    if head is not None:
        h = _object(head, HEAD_FIELDS, "the checkpoint's head")
        head = Head(
            position=_count(h["position"], "checkpoint head position", 1),
            case_id=_uuid(h["case_id"], "checkpoint head case_id"),
            version=_count(h["version"], "checkpoint head version", 1),
            event_hash=_hash(h["event_hash"], "checkpoint head event_hash"),
        )
    return Checkpoint(
        position=_count(data["position"], "checkpoint position", 0),
        tree_size=_count(data["tree_size"], "checkpoint tree_size", 0),
        root=_hash(data["root"], "checkpoint root"),
        head=head,
        signed_at=_moment(data["signed_at"], "checkpoint signed_at"),
        key_id=_key_id(data["key_id"], "checkpoint key_id"),
        signature=_signature(data["signature"], "checkpoint signature"),
    )


def _case_head(value: Any) -> CaseHead:
    data = _object(value, CASE_HEAD_FIELDS, "the case head")
    if type(data["final"]) is not bool:
        raise Malformed(f"case head final is {json.dumps(data['final'])}, not true or false")
    return CaseHead(
        case_id=_uuid(data["case_id"], "case head case_id"),
        checkpoint_position=_count(data["checkpoint_position"], "case head checkpoint_position", 0),
        checkpoint_root=_hash(data["checkpoint_root"], "case head checkpoint_root"),
        version=_count(data["version"], "case head version", 1),
        event_hash=_hash(data["event_hash"], "case head event_hash"),
        final=data["final"],
        signed_at=_moment(data["signed_at"], "case head signed_at"),
        key_id=_key_id(data["key_id"], "case head key_id"),
        signature=_signature(data["signature"], "case head signature"),
    )


def _event(value: Any, index: int) -> BundleItem:
    where = f"events[{index}]"
    data = _object(value, EVENT_FIELDS, where)
    return BundleItem(
        position=_count(data["position"], f"{where}.position", 1),
        version=_count(data["version"], f"{where}.version", 1),
        topic=_text(data["topic"], f"{where}.topic"),
        state=_base64(data["state"], f"{where}.state"),
        prev_hash=bytes.fromhex(_hash(data["prev_hash"], f"{where}.prev_hash")),
        event_hash=bytes.fromhex(_hash(data["event_hash"], f"{where}.event_hash")),
        leaf_index=_count(data["leaf_index"], f"{where}.leaf_index", 0),
        proof=_proof(_list(data["proof"], f"{where}.proof"), f"{where}.proof"),
    )


def _proof(nodes: list[Any], where: str) -> list[bytes]:
    # One regex over the whole path instead of one a node: proofs are most of a bundle's text.
    if all(type(n) is str and len(n) == 64 for n in nodes) and _HEXES.fullmatch("".join(nodes)):
        joined = bytes.fromhex("".join(nodes))
        return [joined[i : i + 32] for i in range(0, len(joined), 32)]
    for n, node in enumerate(nodes):
        _hash(node, f"{where}[{n}]")  # names the first bad node
    raise AssertionError("unreachable: some node failed the check above")
