"""A fake Banco de la Nación cash desk: charges and refunds fees, once per idempotency key."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from . import demo
from .effects import EffectLog
from .flaky import TransientFaults


@dataclass(frozen=True)
class Payment:
    receipt_number: str
    amount_pen: Decimal
    paid_at: datetime
    declined: str | None = None


@dataclass(frozen=True)
class Refund:
    refund_number: str
    amount_pen: Decimal
    refunded_at: datetime


def _number(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:10].upper()}"


class FakeBancoNacion:
    def __init__(self, effects: EffectLog) -> None:
        self.effects = effects
        self.faults = TransientFaults()

    async def charge(
        self, document_number: str, concept: str, amount_pen: Decimal, idempotency_key: str
    ) -> Payment:
        if document_number == demo.PAYMENT_DECLINED:
            return Payment("", amount_pen, datetime.now(UTC), declined="insufficient funds")
        done = self.effects.once(
            idempotency_key,
            "fee-charged",
            lambda: {
                "receipt_number": _number("BN", idempotency_key),
                "amount_pen": str(amount_pen),
                "paid_at": datetime.now(UTC).isoformat(),
            },
        )
        self.faults.after_effect(document_number, idempotency_key)
        return Payment(
            receipt_number=done["receipt_number"],
            amount_pen=Decimal(done["amount_pen"]),
            paid_at=datetime.fromisoformat(done["paid_at"]),
        )

    async def refund(
        self, document_number: str, receipt_number: str, amount_pen: Decimal, idempotency_key: str
    ) -> Refund:
        done = self.effects.once(
            idempotency_key,
            "fee-refunded",
            lambda: {
                "refund_number": _number("BN-DEV", idempotency_key),
                "amount_pen": str(amount_pen),
                "refunded_at": datetime.now(UTC).isoformat(),
            },
        )
        self.faults.after_effect(document_number, idempotency_key)
        return Refund(
            refund_number=done["refund_number"],
            amount_pen=Decimal(done["amount_pen"]),
            refunded_at=datetime.fromisoformat(done["refunded_at"]),
        )
