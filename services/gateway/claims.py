"""A channel's idempotency claims on case ids, in a JetStream KV bucket.

The claim is made with KV `create`, which is atomic: of two concurrent submissions with the same
Idempotency-Key exactly one wins. The same key with the same request is a repeat, the same key
with another request (or from another channel) a conflict. The hub keeps its claims in the
idempotency bucket, a MAC Express site in its own claims bucket, with the same encoding: the key
holds the case id, the value the rest of the `Claim` (no personal data).
"""

from typing import Any
from uuid import UUID

from nats.aio.client import Client
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from pydantic import TypeAdapter, ValidationError

from .case_bus import Admission, Claim, DependencyUnavailable, IdempotencyConflict
from .nats_calls import Bucket, nats_errors

_CLAIM_VALUE = TypeAdapter(dict[str, Any])  # a claim as stored: a JSON object without its case id


_KEY_PREFIX = "case."


def claim_key(case_id: UUID) -> str:
    return f"{_KEY_PREFIX}{case_id.hex}"


def claim_value(claim: Claim) -> bytes:
    """A claim as the bucket stores it: without its case id, which the key holds."""
    return claim.model_dump_json(exclude={"case_id"}).encode()


def stored_claim(case_id: UUID, value: bytes) -> Claim:
    """The claim stored under `case_id`'s key; `DependencyUnavailable` when unreadable."""
    try:
        return Claim.model_validate({**_CLAIM_VALUE.validate_json(value), "case_id": case_id})
    except ValidationError:
        raise DependencyUnavailable("nats", "unreadable idempotency claim") from None


class ClaimBucket:
    """The claims kept in one KV bucket of `nc`'s server (`server` names it in errors)."""

    def __init__(self, nc: Client, bucket: str, *, server: str = "NATS") -> None:
        self.bucket = Bucket(nc, bucket, server=server)

    async def claim(self, claim: Claim) -> Admission:
        """`accepted` for a new claim, `repeat` for the same request again; else a conflict."""
        kv = await self.bucket.kv()
        # Two attempts: a claim may expire (bucket TTL) between our create and our read.
        for _ in range(2):
            with nats_errors():
                try:
                    await kv.create(claim_key(claim.case_id), claim_value(claim))
                    return "accepted"
                except KeyWrongLastSequenceError:
                    pass
            existing = await self.get(claim.case_id)
            if existing is None:
                continue
            if existing.fingerprint != claim.fingerprint or existing.channel != claim.channel:
                raise IdempotencyConflict(claim.case_id)
            return "repeat"
        raise DependencyUnavailable("nats", "idempotency claim kept changing")

    async def case_ids(self) -> list[UUID]:
        """Every case id claimed in the bucket; for a small bucket (a site's), not the hub's."""
        await self.bucket.kv()  # connected, and the bucket exists
        # The bucket's subjects, from the stream's state: nats-py's `kv.keys()` watches the
        # bucket and was seen (2.16.0) to end before the first key, returning none at all.
        prefix = f"$KV.{self.bucket.name}.{_KEY_PREFIX}"
        with nats_errors():
            info = await self.bucket.js.stream_info(f"KV_{self.bucket.name}", subjects_filter=">")
        return [UUID(hex=s.removeprefix(prefix)) for s in (info.state.subjects or {})]

    async def get(self, case_id: UUID) -> Claim | None:
        kv = await self.bucket.kv()
        with nats_errors():
            try:
                entry = await kv.get(claim_key(case_id))
            except KeyNotFoundError:
                return None
        return stored_claim(case_id, entry.value or b"")
