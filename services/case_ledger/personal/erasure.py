"""Erasing a citizen: crypto-shredding their data key.

Every value encrypted under the key reads `[erased]` from then on. No stored byte changes, so
every hash chain and checkpoint still verifies; the projections that index the citizen by
their key id (access log, read log) forget them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ..audit.records import NotificationLog, read_records
from .citizens import CitizenKeys
from .fields import PREFIX


@dataclass(frozen=True)
class Erasure:
    """What erasing did: the key destroyed and the stored events that quoted it."""

    key_id: str | None
    events: int
    cases: int


class ForgetsCitizens(Protocol):
    def forget(self, key_id: str) -> None: ...


def erase_citizen(
    keys: CitizenKeys,
    projections: Iterable[ForgetsCitizens],
    recorder: NotificationLog,
    document_number: str,
) -> Erasure:
    key_id = keys.erase(document_number)
    if key_id is None:
        return Erasure(None, 0, 0)
    for projection in projections:
        projection.forget(key_id)
    quoted = f"{PREFIX}{key_id}.".encode()
    hits = [r.case_id for r in read_records(recorder) if quoted in r.state]
    return Erasure(key_id, len(hits), len(set(hits)))
