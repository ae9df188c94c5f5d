"""SUNARP: certifies who owns a vehicle and registers its transfer.

A transfer the registrar cannot decide at once is accepted (a deferred answer) and answered
when the registrar has decided: `answer_decided_transfers` sends those answers.
"""

from collections.abc import Sequence
from dataclasses import dataclass
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

from .answers import Answerer, AnswerTo
from .deferred import Accepted
from .sdk import EntityAdapter, StepRefused, handle


class Registration(Protocol):
    number: str
    registered_at: datetime


@dataclass(frozen=True)
class PendingFiling:
    """The registrar took the filing and decides it by `expected_by`."""

    expected_by: datetime


class DecidedTransfer(Protocol):
    idempotency_key: str
    reference: str  # what the filing was given as `reference`: where its answer goes
    number: str
    registered_at: datetime


class SunarpBackOffice(Protocol):
    async def owner_of(self, plate: str) -> str | None: ...

    async def ownership_certificate(self, plate: str, owner: str, idempotency_key: str) -> str: ...

    async def observation(self, buyer: str) -> str | None: ...

    async def register_transfer(
        self, plate: str, seller: str, buyer: str, idempotency_key: str, reference: str
    ) -> Registration | PendingFiling: ...

    async def decided_transfers(self) -> Sequence[DecidedTransfer]: ...

    async def answer_sent(self, idempotency_key: str) -> None: ...


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
) -> TransferRegistered | Accepted:
    buyer, seller = req.buyer.document_number, req.seller.document_number
    if buyer == seller:
        raise StepRefused("SUNARP refused the registration: buyer and seller are the same person")
    observation = await sunarp.observation(buyer)
    if observation:
        raise StepRefused(f"SUNARP refused the registration: {observation}")
    filing = await sunarp.register_transfer(
        req.plate, seller, buyer, str(req.operation_id), AnswerTo.of(req).reference()
    )
    if isinstance(filing, PendingFiling):
        return Accepted(expected_by=filing.expected_by)
    return TransferRegistered(registration_number=filing.number, registered_at=filing.registered_at)


async def answer_decided_transfers(sunarp: SunarpBackOffice, answer: Answerer) -> int:
    """Send the answer of every transfer decided since it was accepted; how many were sent."""
    decided = await sunarp.decided_transfers()
    for transfer in decided:
        registered = TransferRegistered(
            registration_number=transfer.number, registered_at=transfer.registered_at
        )
        await answer(AnswerTo.from_reference(transfer.reference), registered)
        await sunarp.answer_sent(transfer.idempotency_key)  # only once the bus has it
    return len(decided)


adapter = EntityAdapter(
    ENTITY,
    handlers=(
        handle(CERTIFICADO_PROPIEDAD, certificado_propiedad),
        handle(INSCRIPCION_TRANSFERENCIA, inscripcion_transferencia),
    ),
    answer_due=answer_decided_transfers,
)
