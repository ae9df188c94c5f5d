"""A fake SUNAT taxpayer registry: a natural person's RUC is 10 + DNI + check digit."""

from dataclasses import dataclass
from datetime import UTC, datetime

from .effects import EffectLog
from .flaky import TransientFaults

_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def ruc_for(document_number: str) -> str:
    """SUNAT's module-11 check digit over the first ten digits."""
    body = f"10{document_number}"
    remainder = 11 - sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11
    return f"{body}{remainder % 10}"


@dataclass(frozen=True)
class Taxpayer:
    ruc: str
    registered_at: datetime


class FakeSunat:
    def __init__(self, effects: EffectLog) -> None:
        self.effects = effects
        self.faults = TransientFaults()

    async def register(
        self, document_number: str, activity_code: str, idempotency_key: str
    ) -> Taxpayer:
        done = self.effects.once(
            idempotency_key,
            "ruc-registered",
            lambda: {
                "ruc": ruc_for(document_number),
                "registered_at": datetime.now(UTC).isoformat(),
            },
        )
        self.faults.after_effect(document_number, idempotency_key)
        return Taxpayer(done["ruc"], datetime.fromisoformat(done["registered_at"]))
