"""How a case gets its id: from the channel and the channel's idempotency key.

The same key from the same channel always names the same case; two channels' keys never collide.
"""

import hashlib
import json
from typing import Any
from uuid import UUID, uuid5

CASE_NAMESPACE = UUID("6f1c1c1e-3c2a-5d0e-9a57-56656e74616e")


def case_id_for(channel: str, idempotency_key: str) -> UUID:
    return uuid5(CASE_NAMESPACE, f"{channel}\n{idempotency_key}")


def submit_msg_id(case_id: UUID) -> str:
    """The `Nats-Msg-Id` of a case's SubmitCase command."""
    return f"submit:{case_id}"


def request_fingerprint(body: dict[str, Any]) -> str:
    """Canonical hash of a submission body: equal bodies, equal fingerprints."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
