"""SUNARP: the public registries (vehicle ownership and its transfers)."""

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import ServiceContract, ServiceRequest, ServiceResult
from schemas.identifiers import Plate

ENTITY = "sunarp"
NAME = "Superintendencia Nacional de los Registros Públicos"


class OwnershipRequest(ServiceRequest):
    plate: Plate
    owner: CitizenRef = Field(description="Who claims to own the vehicle.")


class OwnershipCertificate(ServiceResult):
    certificate_number: str
    plate: str


class TransferRequest(ServiceRequest):
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
