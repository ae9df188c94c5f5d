"""A fake RENIEC registry: knows the seeded citizens, issues one card per idempotency key."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from . import demo
from .effects import EffectLog

PICKUP_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class DuplicateCard:
    serial: str
    pickup_date: date


class FakeReniec:
    def __init__(self, effects: EffectLog) -> None:
        self.effects = effects

    async def is_registered(self, document_number: str) -> bool:
        return document_number in demo.RENIEC_REGISTERED

    async def issue_duplicate(
        self, document_number: str, reason: str, payment_receipt: str, idempotency_key: str
    ) -> DuplicateCard:
        def perform() -> dict[str, str]:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:8].upper()
            pickup = datetime.now(UTC).date() + PICKUP_AFTER
            return {"serial": f"DNI-{digest}", "pickup_date": pickup.isoformat()}

        done = self.effects.once(idempotency_key, "dni-duplicate-issued", perform)
        return DuplicateCard(
            serial=done["serial"], pickup_date=date.fromisoformat(done["pickup_date"])
        )
