"""A fake SAT Lima: vehicle tax accounts and no-debt certificates."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from . import demo
from .effects import EffectLog
from .flaky import TransientFaults


@dataclass(frozen=True)
class Certificate:
    number: str
    issued_at: datetime


class FakeSat:
    def __init__(self, effects: EffectLog) -> None:
        self.effects = effects
        self.faults = TransientFaults()

    async def pending_debts(self, document_number: str, plate: str) -> int:
        return 3 if document_number == demo.SAT_DEBTS else 0

    async def no_debt_certificate(
        self, document_number: str, plate: str, idempotency_key: str
    ) -> Certificate:
        done = self.effects.once(
            idempotency_key,
            "no-debt-certificate-issued",
            lambda: {
                "number": "SAT-"
                + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper(),
                "issued_at": datetime.now(UTC).isoformat(),
            },
        )
        self.faults.after_effect(document_number, idempotency_key)
        return Certificate(done["number"], datetime.fromisoformat(done["issued_at"]))
