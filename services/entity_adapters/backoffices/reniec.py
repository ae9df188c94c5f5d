"""A fake RENIEC registry: knows the seeded citizens, issues one card per idempotency key."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from . import demo
from .effects import EffectLog
from .flaky import TransientFaults

PICKUP_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class DuplicateCard:
    serial: str
    pickup_date: date


@dataclass(frozen=True)
class Verification:
    code: str
    person: demo.Person


class FakeReniec:
    def __init__(self, effects: EffectLog) -> None:
        self.effects = effects
        self.faults = TransientFaults()

    async def is_registered(self, document_number: str) -> bool:
        return document_number in demo.RENIEC_REGISTRY

    async def verify(self, document_number: str, idempotency_key: str) -> Verification | None:
        person = demo.RENIEC_REGISTRY.get(document_number)
        if person is None:
            return None
        self.faults.after_effect(document_number, idempotency_key)
        code = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12].upper()
        return Verification(code=f"RV-{code}", person=person)

    async def issue_duplicate(
        self, document_number: str, reason: str, payment_receipt: str, idempotency_key: str
    ) -> DuplicateCard:
        def perform() -> dict[str, str]:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:8].upper()
            pickup = datetime.now(UTC).date() + PICKUP_AFTER
            return {"serial": f"DNI-{digest}", "pickup_date": pickup.isoformat()}

        done = self.effects.once(idempotency_key, "dni-duplicate-issued", perform)
        self.faults.after_effect(document_number, idempotency_key)
        return DuplicateCard(
            serial=done["serial"], pickup_date=date.fromisoformat(done["pickup_date"])
        )
