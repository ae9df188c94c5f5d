"""Banco de la Nación: collects procedure fees."""

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from schemas.entities.banco_nacion import ENTITY, FeePaymentReceipt, FeePaymentRequest

from .sdk import EntityAdapter


class Payment(Protocol):
    receipt_number: str
    amount_pen: Decimal
    paid_at: datetime


class BancoNacionBackOffice(Protocol):
    async def charge(
        self, document_number: str, concept: str, amount_pen: Decimal, idempotency_key: str
    ) -> Payment: ...


async def pago_tasa(req: FeePaymentRequest, bank: BancoNacionBackOffice) -> FeePaymentReceipt:
    payment = await bank.charge(
        req.citizen.document_number, req.procedure, req.amount_pen, str(req.attempt_id)
    )
    return FeePaymentReceipt(
        receipt_number=payment.receipt_number,
        amount_pen=payment.amount_pen,
        paid_at=payment.paid_at,
    )


adapter = EntityAdapter(ENTITY, handlers={"pago-tasa": pago_tasa})
