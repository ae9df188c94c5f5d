"""The participating entities and the services each one offers on the bus."""

from dataclasses import dataclass

from schemas.entities import banco_nacion, migraciones, reniec, sat, sunarp, sunat
from schemas.entities.base import ServiceRequest, ServiceResult


@dataclass(frozen=True)
class ServiceContract:
    """One service of one entity: what it takes and what it answers."""

    entity: str
    service: str
    title: str
    request: type[ServiceRequest]
    result: type[ServiceResult]


ENTITIES: dict[str, str] = {
    module.ENTITY: module.NAME for module in (banco_nacion, reniec, sat, sunarp, migraciones, sunat)
}

_CONTRACTS = (
    ServiceContract(
        banco_nacion.ENTITY,
        "pago-tasa",
        "Fee payment",
        banco_nacion.FeePaymentRequest,
        banco_nacion.FeePaymentReceipt,
    ),
    ServiceContract(
        banco_nacion.ENTITY,
        "devolucion-tasa",
        "Fee refund",
        banco_nacion.FeeRefundRequest,
        banco_nacion.FeeRefunded,
    ),
    ServiceContract(
        reniec.ENTITY,
        "duplicado-dni",
        "DNI duplicate issuance",
        reniec.DniDuplicateRequest,
        reniec.DniDuplicateIssued,
    ),
    ServiceContract(
        reniec.ENTITY,
        "verificacion-identidad",
        "Identity check",
        reniec.IdentityCheckRequest,
        reniec.IdentityVerified,
    ),
    ServiceContract(
        sat.ENTITY,
        "certificado-no-adeudo",
        "Vehicle tax no-debt certificate",
        sat.NoDebtRequest,
        sat.NoDebtCertificate,
    ),
    ServiceContract(
        sunarp.ENTITY,
        "certificado-propiedad",
        "Vehicle ownership certificate",
        sunarp.OwnershipRequest,
        sunarp.OwnershipCertificate,
    ),
    ServiceContract(
        sunarp.ENTITY,
        "inscripcion-transferencia",
        "Vehicle transfer registration",
        sunarp.TransferRequest,
        sunarp.TransferRegistered,
    ),
    ServiceContract(
        migraciones.ENTITY,
        "emision-pasaporte",
        "Passport issuance",
        migraciones.PassportRequest,
        migraciones.PassportIssued,
    ),
    ServiceContract(
        sunat.ENTITY,
        "inscripcion-ruc",
        "Taxpayer registration (RUC)",
        sunat.RucRegistrationRequest,
        sunat.RucRegistered,
    ),
)

SERVICES: dict[tuple[str, str], ServiceContract] = {(c.entity, c.service): c for c in _CONTRACTS}


def contract(entity: str, service: str) -> ServiceContract:
    return SERVICES[(entity, service)]
