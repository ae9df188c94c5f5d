"""Conformance checks of an entity adapter: how their traffic is told apart from real cases.

`ventanilla adapter check` sends requests to a running adapter under case ids of its own: UUIDs
of version 8 (RFC 9562's custom layout) whose first 48 bits are `CHECK_MARK`. Real case ids are
version 5 (`schemas.cases.case_id_for`), so the two never meet. The ledger passes over a result
whose case id is a check id without recording it or filing it as a dead letter: a check leaves
no case and no event in the record. The adapter treats a check request as any other (that is
what is being checked), so its back office does act on the valid ones: run checks against a
test or staging back office.
"""

import json
import secrets
from uuid import UUID

# "c4ec" + "0000c4ec": spells "check" well enough to be recognised in a log line.
CHECK_MARK = 0xC4EC0000C4EC
_VERSION = 8


def check_case_id() -> UUID:
    """A fresh case id for one conformance check."""
    value = (CHECK_MARK << 80) | (_VERSION << 76) | secrets.randbits(76)
    value = (value & ~(0b11 << 62)) | (0b10 << 62)  # the RFC 9562 variant bits
    return UUID(int=value)


def is_check_case(case_id: UUID) -> bool:
    return case_id.version == _VERSION and case_id.int >> 80 == CHECK_MARK


def check_user_name(entity: str) -> str:
    """The bus user that checks `entity`'s adapter (services/bus/permissions.py)."""
    return f"check-{entity}"


def is_check_message(data: bytes) -> bool:
    """True for a message body whose envelope names a check case (a dead letter a check caused;
    the malformed JSON a check sends names nothing, so it is not recognised)."""
    try:
        body = json.loads(data)
        return is_check_case(UUID(str(body["envelope"]["case_id"])))
    except (ValueError, TypeError, KeyError):
        return False
