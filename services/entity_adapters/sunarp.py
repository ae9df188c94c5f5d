"""SUNARP: certifies who owns a vehicle and registers its transfer."""

from datetime import datetime
from typing import Protocol

from schemas.entities.sunarp import (
    CERTIFICADO_PROPIEDAD,
    ENTITY,
    INSCRIPCION_TRANSFERENCIA,
    OwnershipCertificate,
    OwnershipRequest,
    TransferRegistered,
    TransferRequest,
)

from .sdk import EntityAdapter, StepRefused, handle


class Registration(Protocol):
    number: str
    registered_at: datetime


class SunarpBackOffice(Protocol):
    async def owner_of(self, plate: str) -> str | None: ...

    async def ownership_certificate(self, plate: str, owner: str, idempotency_key: str) -> str: ...

    async def observation(self, buyer: str) -> str | None: ...

    async def register_transfer(
        self, plate: str, seller: str, buyer: str, idempotency_key: str
    ) -> Registration: ...


async def certificado_propiedad(
    req: OwnershipRequest, sunarp: SunarpBackOffice
) -> OwnershipCertificate:
    owner = req.owner.document_number
    if await sunarp.owner_of(req.plate) != owner:
        raise StepRefused(f"SUNARP: the seller is not the registered owner of {req.plate}")
    number = await sunarp.ownership_certificate(req.plate, owner, str(req.operation_id))
    return OwnershipCertificate(certificate_number=number, plate=req.plate)


async def inscripcion_transferencia(
    req: TransferRequest, sunarp: SunarpBackOffice
) -> TransferRegistered:
    buyer, seller = req.buyer.document_number, req.seller.document_number
    if buyer == seller:
        raise StepRefused("SUNARP refused the registration: buyer and seller are the same person")
    observation = await sunarp.observation(buyer)
    if observation:
        raise StepRefused(f"SUNARP refused the registration: {observation}")
    registration = await sunarp.register_transfer(req.plate, seller, buyer, str(req.operation_id))
    return TransferRegistered(
        registration_number=registration.number, registered_at=registration.registered_at
    )


adapter = EntityAdapter(
    ENTITY,
    handlers=(
        handle(CERTIFICADO_PROPIEDAD, certificado_propiedad),
        handle(INSCRIPCION_TRANSFERENCIA, inscripcion_transferencia),
    ),
)
