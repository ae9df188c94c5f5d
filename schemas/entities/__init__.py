"""The participating entities and the services each one offers on the bus."""

from typing import Any

from schemas.entities import banco_nacion, migraciones, reniec, sat, sunarp, sunat
from schemas.entities.base import ServiceContract

__all__ = ["ENTITIES", "SERVICES", "ServiceContract", "contract"]

_MODULES = (banco_nacion, reniec, sat, sunarp, migraciones, sunat)

ENTITIES: dict[str, str] = {module.ENTITY: module.NAME for module in _MODULES}

SERVICES: dict[tuple[str, str], ServiceContract[Any, Any]] = {
    (c.entity, c.service): c for module in _MODULES for c in module.CONTRACTS
}


def contract(entity: str, service: str) -> ServiceContract[Any, Any]:
    return SERVICES[(entity, service)]
