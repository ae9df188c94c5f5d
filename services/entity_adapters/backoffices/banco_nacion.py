"""A fake Banco de la Nación cash desk: charges fees, one receipt per idempotency key."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from .effects import EffectLog


@dataclass(frozen=True)
class Payment:
    receipt_number: str
    amount_pen: Decimal
    paid_at: datetime


class FakeBancoNacion:
    def __init__(self, effects: EffectLog) -> None:
        self.effects = effects

    async def charge(
        self, document_number: str, concept: str, amount_pen: Decimal, idempotency_key: str
    ) -> Payment:
        def perform() -> dict[str, str]:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
            return {
                "receipt_number": f"BN-{digest}",
                "amount_pen": str(amount_pen),
                "paid_at": datetime.now(UTC).isoformat(),
            }

        done = self.effects.once(idempotency_key, "fee-charged", perform)
        return Payment(
            receipt_number=done["receipt_number"],
            amount_pen=Decimal(done["amount_pen"]),
            paid_at=datetime.fromisoformat(done["paid_at"]),
        )
