"""The participating entities and the services each one offers on the bus."""

from dataclasses import dataclass

from schemas.entities import banco_nacion, reniec
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
    banco_nacion.ENTITY: banco_nacion.NAME,
    reniec.ENTITY: reniec.NAME,
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
        reniec.ENTITY,
        "duplicado-dni",
        "DNI duplicate issuance",
        reniec.DniDuplicateRequest,
        reniec.DniDuplicateIssued,
    ),
)

SERVICES: dict[tuple[str, str], ServiceContract] = {(c.entity, c.service): c for c in _CONTRACTS}


def contract(entity: str, service: str) -> ServiceContract:
    return SERVICES[(entity, service)]
