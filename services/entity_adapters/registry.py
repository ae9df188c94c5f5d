"""Which adapter and which (fake) back office serve each entity of a local stack."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import banco_nacion, migraciones, reniec, sat, sunarp, sunat
from .backoffices.banco_nacion import FakeBancoNacion
from .backoffices.effects import EffectLog
from .backoffices.migraciones import FakeMigraciones
from .backoffices.reniec import FakeReniec
from .backoffices.sat import FakeSat
from .backoffices.sunarp import FakeSunarp
from .backoffices.sunat import FakeSunat
from .sdk import EntityAdapter

BackOfficeFactory = Callable[[EffectLog], Any]

ADAPTERS: dict[str, tuple[EntityAdapter[Any], BackOfficeFactory]] = {
    banco_nacion.adapter.entity: (banco_nacion.adapter, FakeBancoNacion),
    reniec.adapter.entity: (reniec.adapter, FakeReniec),
    sat.adapter.entity: (sat.adapter, FakeSat),
    sunarp.adapter.entity: (sunarp.adapter, FakeSunarp),
    migraciones.adapter.entity: (migraciones.adapter, FakeMigraciones),
    sunat.adapter.entity: (sunat.adapter, FakeSunat),
}


def effects_file(backoffices_dir: Path, entity: str) -> Path:
    return backoffices_dir / f"{entity}.sqlite"
