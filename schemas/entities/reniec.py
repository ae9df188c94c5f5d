"""RENIEC: the national identity registry."""

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import (
    ServiceContract,
    ServiceRequest,
    ServiceResult,
    request_examples,
)
from schemas.personal import PERSONAL

ENTITY = "reniec"
NAME = "Registro Nacional de Identificación y Estado Civil"

DuplicateReason = Literal["perdida", "robo", "deterioro"]


class DniDuplicateRequest(ServiceRequest):
    model_config = request_examples(
        {
            "citizen": {"document_type": "DNI", "document_number": "40000001"},
            "reason": "perdida",
            "payment_receipt": "BN-0000000001",
        }
    )

    citizen: CitizenRef
    reason: DuplicateReason
    payment_receipt: str = Field(description="Banco de la Nación receipt of the fee.")


class DniDuplicateIssued(ServiceResult):
    card_serial: str = Field(description="Serial of the new DNI card.")
    pickup_date: date = Field(description="When the citizen can collect it.")


class IdentityCheckRequest(ServiceRequest):
    model_config = request_examples(
        {"citizen": {"document_type": "DNI", "document_number": "40000001"}}
    )

    citizen: CitizenRef


class IdentityVerified(ServiceResult):
    """What RENIEC already holds, so no other entity asks the citizen for it (DL 1211)."""

    verification_code: str = Field(description="Proof of the check, quoted by other entities.")
    given_names: Annotated[str, PERSONAL]
    surnames: Annotated[str, PERSONAL]
    birth_date: Annotated[date, PERSONAL]


DUPLICADO_DNI = ServiceContract(
    ENTITY, "duplicado-dni", "DNI duplicate issuance", DniDuplicateRequest, DniDuplicateIssued
)
VERIFICACION_IDENTIDAD = ServiceContract(
    ENTITY, "verificacion-identidad", "Identity check", IdentityCheckRequest, IdentityVerified
)
CONTRACTS = (DUPLICADO_DNI, VERIFICACION_IDENTIDAD)
