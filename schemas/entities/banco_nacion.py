"""Banco de la Nación: collects the State's procedure fees, and refunds them."""

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import (
    ServiceContract,
    ServiceRequest,
    ServiceResult,
    request_examples,
)

ENTITY = "banco-nacion"
NAME = "Banco de la Nación"


class FeePaymentRequest(ServiceRequest):
    model_config = request_examples(
        {
            "citizen": {"document_type": "DNI", "document_number": "40000001"},
            "procedure": "duplicado-dni",
            "amount_pen": "23.40",
        }
    )

    citizen: CitizenRef
    procedure: str = Field(description="Procedure code the fee is for.")
    amount_pen: Decimal = Field(gt=0, description="Fee in soles.")


class FeePaymentReceipt(ServiceResult):
    receipt_number: str = Field(description="Receipt that proves the payment to other entities.")
    amount_pen: Decimal
    paid_at: datetime


class FeeRefundRequest(ServiceRequest):
    """Undo a fee payment when the procedure it paid for was refused."""

    model_config = request_examples(
        {
            "citizen": {"document_type": "DNI", "document_number": "40000001"},
            "receipt_number": "BN-0000000001",
            "amount_pen": "23.40",
        }
    )

    citizen: CitizenRef
    receipt_number: str = Field(description="Receipt of the payment to refund.")
    amount_pen: Decimal = Field(gt=0)


class FeeRefunded(ServiceResult):
    refund_number: str
    amount_pen: Decimal
    refunded_at: datetime


PAGO_TASA = ServiceContract(
    ENTITY, "pago-tasa", "Fee payment", FeePaymentRequest, FeePaymentReceipt
)
DEVOLUCION_TASA = ServiceContract(
    ENTITY, "devolucion-tasa", "Fee refund", FeeRefundRequest, FeeRefunded
)
CONTRACTS = (PAGO_TASA, DEVOLUCION_TASA)
