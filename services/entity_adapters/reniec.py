"""RENIEC: issues duplicate DNI cards to registered citizens."""

from datetime import date
from typing import Protocol

from schemas.entities.reniec import ENTITY, DniDuplicateIssued, DniDuplicateRequest

from .sdk import EntityAdapter, StepRefused


class DuplicateCard(Protocol):
    serial: str
    pickup_date: date


class ReniecBackOffice(Protocol):
    async def is_registered(self, document_number: str) -> bool: ...

    async def issue_duplicate(
        self, document_number: str, reason: str, payment_receipt: str, idempotency_key: str
    ) -> DuplicateCard: ...


async def duplicado_dni(req: DniDuplicateRequest, reniec: ReniecBackOffice) -> DniDuplicateIssued:
    dni = req.citizen.document_number
    if not await reniec.is_registered(dni):
        raise StepRefused("RENIEC has no record of this DNI")
    card = await reniec.issue_duplicate(dni, req.reason, req.payment_receipt, str(req.attempt_id))
    return DniDuplicateIssued(card_serial=card.serial, pickup_date=card.pickup_date)


adapter = EntityAdapter(ENTITY, handlers={"duplicado-dni": duplicado_dni})
