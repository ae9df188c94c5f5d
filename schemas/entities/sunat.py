"""SUNAT: the national tax administration (taxpayer registry, RUC)."""

from datetime import datetime
from typing import Annotated

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import (
    ServiceContract,
    ServiceRequest,
    ServiceResult,
    request_examples,
)
from schemas.identifiers import CiiuCode, Ruc
from schemas.personal import PERSONAL

ENTITY = "sunat"
NAME = "Superintendencia Nacional de Aduanas y de Administración Tributaria"


class RucRegistrationRequest(ServiceRequest):
    model_config = request_examples(
        {
            "citizen": {"document_type": "DNI", "document_number": "40000001"},
            "activity_code": "4711",
            "identity_verification": "RENIEC-VER-0001",
            "given_names": "Ana María",
            "surnames": "Quispe Mamani",
        }
    )

    citizen: CitizenRef
    activity_code: CiiuCode = Field(description="CIIU economic activity code.")
    identity_verification: str = Field(description="RENIEC's verification code.")
    given_names: Annotated[str, PERSONAL]
    surnames: Annotated[str, PERSONAL]


class RucRegistered(ServiceResult):
    ruc: Annotated[Ruc, PERSONAL]
    registered_at: datetime


INSCRIPCION_RUC = ServiceContract(
    ENTITY, "inscripcion-ruc", "Taxpayer registration (RUC)", RucRegistrationRequest, RucRegistered
)
CONTRACTS = (INSCRIPCION_RUC,)
