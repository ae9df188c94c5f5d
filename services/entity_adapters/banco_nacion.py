"""Banco de la Nación: collects procedure fees, and refunds them when a case fails later."""

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from schemas.entities.banco_nacion import (
    DEVOLUCION_TASA,
    ENTITY,
    PAGO_TASA,
    FeePaymentReceipt,
    FeePaymentRequest,
    FeeRefunded,
    FeeRefundRequest,
)

from .sdk import EntityAdapter, StepRefused, handle


class Payment(Protocol):
    receipt_number: str
    amount_pen: Decimal
    paid_at: datetime
    declined: str | None


class Refund(Protocol):
    refund_number: str
    amount_pen: Decimal
    refunded_at: datetime


class BancoNacionBackOffice(Protocol):
    async def charge(
        self, document_number: str, concept: str, amount_pen: Decimal, idempotency_key: str
    ) -> Payment: ...

    async def refund(
        self, document_number: str, receipt_number: str, amount_pen: Decimal, idempotency_key: str
    ) -> Refund: ...


async def pago_tasa(req: FeePaymentRequest, bank: BancoNacionBackOffice) -> FeePaymentReceipt:
    payment = await bank.charge(
        req.citizen.document_number, req.procedure, req.amount_pen, str(req.operation_id)
    )
    if payment.declined:
        raise StepRefused(f"Banco de la Nación declined the payment: {payment.declined}")
    return FeePaymentReceipt(
        receipt_number=payment.receipt_number,
        amount_pen=payment.amount_pen,
        paid_at=payment.paid_at,
    )


async def devolucion_tasa(req: FeeRefundRequest, bank: BancoNacionBackOffice) -> FeeRefunded:
    refund = await bank.refund(
        req.citizen.document_number, req.receipt_number, req.amount_pen, str(req.operation_id)
    )
    return FeeRefunded(
        refund_number=refund.refund_number,
        amount_pen=refund.amount_pen,
        refunded_at=refund.refunded_at,
    )


adapter = EntityAdapter(
    ENTITY, handlers=(handle(PAGO_TASA, pago_tasa), handle(DEVOLUCION_TASA, devolucion_tasa))
)
