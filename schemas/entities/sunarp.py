"""SUNARP: the public registries (vehicle ownership and its transfers)."""

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
from schemas.identifiers import Plate

ENTITY = "sunarp"
NAME = "Superintendencia Nacional de los Registros Públicos"


class OwnershipRequest(ServiceRequest):
    model_config = request_examples(
        {"plate": "ABC-123", "owner": {"document_type": "DNI", "document_number": "40000007"}}
    )

    plate: Plate
    owner: CitizenRef = Field(description="Who claims to own the vehicle.")


class OwnershipCertificate(ServiceResult):
    certificate_number: str
    plate: str


class TransferRequest(ServiceRequest):
    model_config = request_examples(
        {
            "plate": "ABC-123",
            "seller": {"document_type": "DNI", "document_number": "40000007"},
            "buyer": {"document_type": "DNI", "document_number": "40000001"},
            "price_pen": "15000.00",
            "ownership_certificate": "SUNARP-0001",
            "no_debt_certificate": "SAT-0001",
            "payment_receipt": "BN-0000000001",
        }
    )

    plate: Plate
    seller: CitizenRef
    buyer: CitizenRef
    price_pen: Decimal = Field(gt=0)
    ownership_certificate: str
    no_debt_certificate: str
    payment_receipt: str


class TransferRegistered(ServiceResult):
    registration_number: str
    registered_at: datetime


CERTIFICADO_PROPIEDAD = ServiceContract(
    ENTITY,
    "certificado-propiedad",
    "Vehicle ownership certificate",
    OwnershipRequest,
    OwnershipCertificate,
)
INSCRIPCION_TRANSFERENCIA = ServiceContract(
    ENTITY,
    "inscripcion-transferencia",
    "Vehicle transfer registration",
    TransferRequest,
    TransferRegistered,
)
CONTRACTS = (CERTIFICADO_PROPIEDAD, INSCRIPCION_TRANSFERENCIA)
