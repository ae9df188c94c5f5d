"""Which values of a case event are personal, whose they are, and how they are stored.

What is personal is marked on the models (schemas/personal.py), not guessed from names here:
every field marked on a command, a registered service's request or result, or a procedure's
inputs is personal wherever that field name appears in an event (outside its envelope and actor):

- `IDENTIFIES` (a DNI: a citizen reference's `document_number`, an input such as `seller_dni`):
  encrypted under the key of the citizen it identifies, so a seller's DNI inside the buyer's
  case is erased with the seller;
- `PERSONAL` (names, birth dates, a natural person's RUC, the submission's fingerprint):
  encrypted under the key of the event's subject: the citizen the request is about, or for a
  result the citizen its step was about.

Case ids, step ids, entities, services, receipts, certificates, plates and reasons stay in clear.
An encrypted value is a string `pd1.<key id>.<base64url(nonce || AES-GCM ciphertext)>` of the
value's JSON, with the case id and the key id as associated data (a value copied into another
case does not open). Values that are already `[erased]` stay so; values of a citizen who is
erased are not written at all.
"""

import base64
import json
import os
from collections.abc import Callable
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag

from schemas.entities import SERVICES
from schemas.messages import SubmitCase
from schemas.personal import PersonalMarks, marks_of
from schemas.procedures import catalog

from ..domain import ERASED
from .citizens import CitizenKeys

PREFIX = "pd1."
NONCE_SIZE = 12
ENVELOPE = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}
)


class NoDataSubject(ValueError):
    """A personal value whose citizen is unknown: it is refused rather than stored in clear."""


@cache
def registered_marks() -> PersonalMarks:
    """The marks of every model a case event carries values of."""
    services = (m for c in SERVICES.values() for m in (c.request, c.result))
    inputs = (p.inputs for p in catalog().values())
    return marks_of((SubmitCase, *services, *inputs))


class PersonalFields:
    def __init__(self, keys: CitizenKeys, marks: PersonalMarks | None = None) -> None:
        self.keys = keys
        self.marks = marks or registered_marks()

    def encrypt(self, case_id: str, state: dict[str, Any], subject: str | None) -> dict[str, Any]:
        """A copy of an event's state with every personal value encrypted."""

        identifying, describing = self.marks.identifying, self.marks.describing

        def value(name: str, item: Any) -> Any:
            if isinstance(item, dict | list):
                return walk(item)
            if name in identifying:
                owner = item
            elif name in describing:
                if subject is None:
                    raise NoDataSubject(f"no citizen to encrypt {name!r} of case {case_id} for")
                owner = subject
            else:
                return item
            if item is None or item == ERASED or owner == ERASED:
                return None if item is None else ERASED
            return self._seal(case_id, str(owner), item)

        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: value(k, v) for k, v in node.items()}
            return [value("", v) for v in node]

        return {k: v if k in ENVELOPE else value(k, v) for k, v in state.items()}

    def decrypt(self, case_id: str, state: dict[str, Any]) -> dict[str, Any]:
        """A copy of a stored event's state with its personal values opened, or `[erased]`."""

        def open_text(text: str) -> Any:
            return self._open(case_id, text)

        return {k: v if k in ENVELOPE else _map_strings(v, open_text) for k, v in state.items()}

    def _seal(self, case_id: str, owner: str, item: Any) -> str:
        key_id, key = self.keys.for_citizen(owner)
        nonce = os.urandom(NONCE_SIZE)
        plain = json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = key.encrypt(nonce, plain, _associated(case_id, key_id))
        return f"{PREFIX}{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def _open(self, case_id: str, text: str) -> Any:
        if not text.startswith(PREFIX):
            return text
        key_id, _, body = text[len(PREFIX) :].partition(".")
        key = self.keys.by_id(key_id)
        if key is None:
            return ERASED
        raw = base64.urlsafe_b64decode(body)
        try:
            plain = key.decrypt(raw[:NONCE_SIZE], raw[NONCE_SIZE:], _associated(case_id, key_id))
        except InvalidTag:
            raise ValueError(f"a personal value of case {case_id} was altered or moved") from None
        return json.loads(plain)


def _associated(case_id: str, key_id: str) -> bytes:
    return f"ventanilla personal data\x00{case_id}\x00{key_id}".encode()


def _map_strings(node: Any, fn: Callable[[str], Any]) -> Any:
    if isinstance(node, str):
        return fn(node)
    if isinstance(node, dict):
        return {k: _map_strings(v, fn) for k, v in node.items()}
    if isinstance(node, list):
        return [_map_strings(v, fn) for v in node]
    return node
