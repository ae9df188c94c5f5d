"""A fake Migraciones passport office: one passport per idempotency key."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .effects import EffectLog
from .flaky import TransientFaults

PICKUP_AFTER = timedelta(days=3)


@dataclass(frozen=True)
class Passport:
    number: str
    pickup_date: date


class FakeMigraciones:
    def __init__(self, effects: EffectLog) -> None:
        self.effects = effects
        self.faults = TransientFaults()

    async def issue_passport(self, document_number: str, idempotency_key: str) -> Passport:
        def perform() -> dict[str, str]:
            digest = int(hashlib.sha256(idempotency_key.encode()).hexdigest()[:8], 16)
            pickup = datetime.now(UTC).date() + PICKUP_AFTER
            return {"number": f"{digest % 10**9:09d}", "pickup_date": pickup.isoformat()}

        done = self.effects.once(idempotency_key, "passport-issued", perform)
        self.faults.after_effect(document_number, idempotency_key)
        return Passport(done["number"], date.fromisoformat(done["pickup_date"]))
