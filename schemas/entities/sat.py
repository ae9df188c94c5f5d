"""SAT Lima: the tax administration of Lima's municipality (vehicle tax)."""

from datetime import datetime

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import (
    ServiceContract,
    ServiceRequest,
    ServiceResult,
    request_examples,
)
from schemas.identifiers import Plate

ENTITY = "sat"
NAME = "Servicio de Administración Tributaria de Lima"


class NoDebtRequest(ServiceRequest):
    model_config = request_examples(
        {"citizen": {"document_type": "DNI", "document_number": "40000001"}, "plate": "ABC-123"}
    )

    citizen: CitizenRef = Field(description="Who asks for the certificate.")
    plate: Plate


class NoDebtCertificate(ServiceResult):
    certificate_number: str
    plate: str
    issued_at: datetime


CERTIFICADO_NO_ADEUDO = ServiceContract(
    ENTITY,
    "certificado-no-adeudo",
    "Vehicle tax no-debt certificate",
    NoDebtRequest,
    NoDebtCertificate,
)
CONTRACTS = (CERTIFICADO_NO_ADEUDO,)
