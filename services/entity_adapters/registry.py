"""Which adapter and which (fake) back office serve each entity of a local stack."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import banco_nacion, reniec
from .backoffices.banco_nacion import FakeBancoNacion
from .backoffices.effects import EffectLog
from .backoffices.reniec import FakeReniec
from .sdk import EntityAdapter

BackOfficeFactory = Callable[[EffectLog], Any]

ADAPTERS: dict[str, tuple[EntityAdapter, BackOfficeFactory]] = {
    banco_nacion.adapter.entity: (banco_nacion.adapter, FakeBancoNacion),
    reniec.adapter.entity: (reniec.adapter, FakeReniec),
}


def effects_file(backoffices_dir: Path, entity: str) -> Path:
    return backoffices_dir / f"{entity}.sqlite"
