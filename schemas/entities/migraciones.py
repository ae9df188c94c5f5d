"""Migraciones: issues Peruvian passports."""

from datetime import date
from typing import Annotated

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import (
    ServiceContract,
    ServiceRequest,
    ServiceResult,
    request_examples,
)
from schemas.personal import PERSONAL

ENTITY = "migraciones"
NAME = "Superintendencia Nacional de Migraciones"


class PassportRequest(ServiceRequest):
    model_config = request_examples(
        {
            "citizen": {"document_type": "DNI", "document_number": "40000001"},
            "identity_verification": "RENIEC-VER-0001",
            "given_names": "Ana María",
            "surnames": "Quispe Mamani",
            "birth_date": "1990-05-17",
            "payment_receipt": "BN-0000000001",
        }
    )

    citizen: CitizenRef
    identity_verification: str = Field(description="RENIEC's verification code.")
    given_names: Annotated[str, PERSONAL]
    surnames: Annotated[str, PERSONAL]
    birth_date: Annotated[date, PERSONAL]
    payment_receipt: str


class PassportIssued(ServiceResult):
    passport_number: Annotated[str, PERSONAL]
    pickup_date: date


EMISION_PASAPORTE = ServiceContract(
    ENTITY, "emision-pasaporte", "Passport issuance", PassportRequest, PassportIssued
)
CONTRACTS = (EMISION_PASAPORTE,)
