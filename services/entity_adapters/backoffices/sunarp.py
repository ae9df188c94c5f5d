"""A fake SUNARP vehicle registry: who owns which plate, and transfer registrations.

Most transfers are registered at once; demo citizen 40000008's is taken at once and decided
about 20 s later (a deferred answer): the filing waits in `PendingFilings`, beside the effects.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..sunarp import PendingFiling
from . import demo
from .effects import EffectLog
from .filings import PendingFilings
from .flaky import TransientFaults

TRANSFER_REGISTERED = "transfer-registered"


@dataclass(frozen=True)
class Registration:
    number: str
    registered_at: datetime


@dataclass(frozen=True)
class DecidedTransfer:
    """A transfer decided after its filing, with the reference its filer gave."""

    idempotency_key: str
    reference: str
    number: str
    registered_at: datetime


class FakeSunarp:
    def __init__(
        self,
        effects: EffectLog,
        filings: PendingFilings | None = None,
        decision_delay: timedelta = demo.SUNARP_DECISION_DELAY,
    ) -> None:
        self.effects = effects
        self.filings = filings or PendingFilings(effects.path)
        self.decision_delay = decision_delay
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
        self, plate: str, seller: str, buyer: str, idempotency_key: str, reference: str
    ) -> Registration | PendingFiling:
        if buyer == demo.SUNARP_ANSWERS_LATER:
            now = datetime.now(UTC)
            decide_at = self.filings.take(idempotency_key, reference, now + self.decision_delay)
            if decide_at > now and self.effects.get(idempotency_key) is None:
                return PendingFiling(decide_at)
            # Decided by now: answered at once (the decided list may answer it too; the bus
            # keeps one answer per attempt).
        done = self._register(idempotency_key)
        self.faults.after_effect(buyer, idempotency_key)
        return Registration(done["number"], datetime.fromisoformat(done["registered_at"]))

    async def decided_transfers(self) -> list[DecidedTransfer]:
        """Transfers decided by now whose answer was not sent yet (registered now if due)."""
        decided = []
        for key, reference in self.filings.due(datetime.now(UTC)):
            done = self._register(key)
            registered_at = datetime.fromisoformat(done["registered_at"])
            decided.append(DecidedTransfer(key, reference, done["number"], registered_at))
        return decided

    async def answer_sent(self, idempotency_key: str) -> None:
        self.filings.answered(idempotency_key)

    def _register(self, idempotency_key: str) -> dict[str, str]:
        return self.effects.once(
            idempotency_key,
            TRANSFER_REGISTERED,
            lambda: {
                "number": "TIT-"
                + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper(),
                "registered_at": datetime.now(UTC).isoformat(),
            },
        )
