"""Migraciones: issues Peruvian passports."""

from datetime import date

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import ServiceContract, ServiceRequest, ServiceResult

ENTITY = "migraciones"
NAME = "Superintendencia Nacional de Migraciones"


class PassportRequest(ServiceRequest):
    citizen: CitizenRef
    identity_verification: str = Field(description="RENIEC's verification code.")
    given_names: str
    surnames: str
    birth_date: date
    payment_receipt: str


class PassportIssued(ServiceResult):
    passport_number: str
    pickup_date: date


EMISION_PASAPORTE = ServiceContract(
    ENTITY, "emision-pasaporte", "Passport issuance", PassportRequest, PassportIssued
)
CONTRACTS = (EMISION_PASAPORTE,)
