"""SUNAT: the national tax administration (taxpayer registry, RUC)."""

from datetime import datetime

from pydantic import Field

from schemas.citizens import CitizenRef
from schemas.entities.base import ServiceRequest, ServiceResult
from schemas.identifiers import CiiuCode, Ruc

ENTITY = "sunat"
NAME = "Superintendencia Nacional de Aduanas y de Administración Tributaria"


class RucRegistrationRequest(ServiceRequest):
    citizen: CitizenRef
    activity_code: CiiuCode = Field(description="CIIU economic activity code.")
    identity_verification: str = Field(description="RENIEC's verification code.")
    given_names: str
    surnames: str


class RucRegistered(ServiceResult):
    ruc: Ruc
    registered_at: datetime
