"""RENIEC: confirms identities and issues duplicate DNI cards to registered citizens."""

from datetime import date
from typing import Protocol

from schemas.entities.reniec import (
    DUPLICADO_DNI,
    ENTITY,
    VERIFICACION_IDENTIDAD,
    DniDuplicateIssued,
    DniDuplicateRequest,
    IdentityCheckRequest,
    IdentityVerified,
)

from .sdk import EntityAdapter, StepRefused, handle

NOT_REGISTERED = "RENIEC has no record of this DNI"


class DuplicateCard(Protocol):
    serial: str
    pickup_date: date


class Person(Protocol):
    given_names: str
    surnames: str
    birth_date: date


class Verification(Protocol):
    code: str
    person: Person


class ReniecBackOffice(Protocol):
    async def is_registered(self, document_number: str) -> bool: ...

    async def verify(self, document_number: str, idempotency_key: str) -> Verification | None: ...

    async def issue_duplicate(
        self, document_number: str, reason: str, payment_receipt: str, idempotency_key: str
    ) -> DuplicateCard: ...


async def duplicado_dni(req: DniDuplicateRequest, reniec: ReniecBackOffice) -> DniDuplicateIssued:
    dni = req.citizen.document_number
    if not await reniec.is_registered(dni):
        raise StepRefused(NOT_REGISTERED)
    card = await reniec.issue_duplicate(dni, req.reason, req.payment_receipt, str(req.operation_id))
    return DniDuplicateIssued(card_serial=card.serial, pickup_date=card.pickup_date)


async def verificacion_identidad(
    req: IdentityCheckRequest, reniec: ReniecBackOffice
) -> IdentityVerified:
    verification = await reniec.verify(req.citizen.document_number, str(req.operation_id))
    if verification is None:
        raise StepRefused(NOT_REGISTERED)
    person = verification.person
    return IdentityVerified(
        verification_code=verification.code,
        given_names=person.given_names,
        surnames=person.surnames,
        birth_date=person.birth_date,
    )


adapter = EntityAdapter(
    ENTITY,
    handlers=(
        handle(DUPLICADO_DNI, duplicado_dni),
        handle(VERIFICACION_IDENTIDAD, verificacion_identidad),
    ),
)
