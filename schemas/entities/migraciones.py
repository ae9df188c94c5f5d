"""Migraciones: issues Peruvian passports."""

from datetime import date
from typing import Annotated

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import ServiceContract, ServiceRequest, ServiceResult
from schemas.personal import PERSONAL

ENTITY = "migraciones"
NAME = "Superintendencia Nacional de Migraciones"


class PassportRequest(ServiceRequest):
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
