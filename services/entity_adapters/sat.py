"""SAT Lima: certifies that a vehicle owes no vehicle tax."""

from datetime import datetime
from typing import Protocol

from schemas.entities.sat import CERTIFICADO_NO_ADEUDO, ENTITY, NoDebtCertificate, NoDebtRequest

from .sdk import EntityAdapter, StepRefused, handle


class Certificate(Protocol):
    number: str
    issued_at: datetime


class SatBackOffice(Protocol):
    async def pending_debts(self, document_number: str, plate: str) -> int: ...

    async def no_debt_certificate(
        self, document_number: str, plate: str, idempotency_key: str
    ) -> Certificate: ...


async def certificado_no_adeudo(req: NoDebtRequest, sat: SatBackOffice) -> NoDebtCertificate:
    dni = req.citizen.document_number
    debts = await sat.pending_debts(dni, req.plate)
    if debts:
        raise StepRefused(f"SAT: {debts} vehicle tax payments are pending")
    certificate = await sat.no_debt_certificate(dni, req.plate, str(req.operation_id))
    return NoDebtCertificate(
        certificate_number=certificate.number, plate=req.plate, issued_at=certificate.issued_at
    )


adapter = EntityAdapter(ENTITY, handlers=(handle(CERTIFICADO_NO_ADEUDO, certificado_no_adeudo),))
