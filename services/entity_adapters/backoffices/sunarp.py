"""A fake SUNARP vehicle registry: who owns which plate, and transfer registrations."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from . import demo
from .effects import EffectLog
from .flaky import TransientFaults


@dataclass(frozen=True)
class Registration:
    number: str
    registered_at: datetime


class FakeSunarp:
    def __init__(self, effects: EffectLog) -> None:
        self.effects = effects
        self.faults = TransientFaults()

    async def owner_of(self, plate: str) -> str | None:
        return demo.VEHICLE_OWNERS.get(plate)

    async def ownership_certificate(self, plate: str, owner: str, idempotency_key: str) -> str:
        self.faults.after_effect(owner, idempotency_key)
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
        return f"CRV-{digest}"

    async def observation(self, buyer: str) -> str | None:
        """Why the registrar would refuse a transfer to this buyer, if anything."""
        if buyer == demo.SUNARP_REFUSES_TRANSFER:
            return "the buyer's file has an unresolved registry observation"
        return None

    async def register_transfer(
        self, plate: str, seller: str, buyer: str, idempotency_key: str
    ) -> Registration:
        done = self.effects.once(
            idempotency_key,
            "transfer-registered",
            lambda: {
                "number": "TIT-"
                + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper(),
                "registered_at": datetime.now(UTC).isoformat(),
            },
        )
        self.faults.after_effect(buyer, idempotency_key)
        return Registration(done["number"], datetime.fromisoformat(done["registered_at"]))
