"""The six reference entities as entity packages, registered in pyproject.toml like any other.

Their back offices default to the demo's fakes (services/entity_adapters/backoffices/). SUNARP's
also runs as its own HTTP service, the way most real back offices are reached.
"""

from pathlib import Path

from schemas.entities import banco_nacion as banco_nacion_contract
from schemas.entities import migraciones as migraciones_contract
from schemas.entities import reniec as reniec_contract
from schemas.entities import sat as sat_contract
from schemas.entities import sunarp as sunarp_contract
from schemas.entities import sunat as sunat_contract

from . import banco_nacion, migraciones, reniec, sat, sunarp, sunat
from .backoffices.banco_nacion import FakeBancoNacion
from .backoffices.migraciones import FakeMigraciones
from .backoffices.reniec import FakeReniec
from .backoffices.sat import FakeSat
from .backoffices.sunarp import FakeSunarp
from .backoffices.sunarp_http import HttpSunarp
from .backoffices.sunat import FakeSunat
from .package import EntityPackage, HttpBackOffice


def _serve_sunarp(store: Path, host: str, port: int) -> None:
    # Imported here: uvicorn and the service's app are for `serve backoffice` alone, not for
    # every process that lists the entity packages.
    from .backoffices import sunarp_service

    sunarp_service.serve(store, host, port)


BANCO_NACION = EntityPackage(
    banco_nacion_contract.ENTITY, banco_nacion_contract.NAME, banco_nacion.adapter, FakeBancoNacion
)
RENIEC = EntityPackage(
    reniec_contract.ENTITY,
    reniec_contract.NAME,
    reniec.adapter,
    FakeReniec,
)
SAT = EntityPackage(sat_contract.ENTITY, sat_contract.NAME, sat.adapter, FakeSat)
SUNARP = EntityPackage(
    sunarp_contract.ENTITY,
    sunarp_contract.NAME,
    sunarp.adapter,
    FakeSunarp,
    http_back_office=HttpBackOffice(serve=_serve_sunarp, client=HttpSunarp),
)
MIGRACIONES = EntityPackage(
    migraciones_contract.ENTITY,
    migraciones_contract.NAME,
    migraciones.adapter,
    FakeMigraciones,
)
SUNAT = EntityPackage(
    sunat_contract.ENTITY,
    sunat_contract.NAME,
    sunat.adapter,
    FakeSunat,
)
