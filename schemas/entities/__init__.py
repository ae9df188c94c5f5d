"""The participating entities and the services each one offers on the bus.

Every entity, the six reference ones included, is an installed package that names one object in
the entry point group `ventanilla.entities` (see `EntityDescription`). The registry below reads
that group once, when first asked, and checks each package; a package that cannot be loaded or
whose contract is invalid stops whoever asked (a composition root at start-up) with a message
naming the package and the fault.
"""

from collections.abc import Iterator, Mapping
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol, TypeVar

from schemas.entities.base import ServiceContract, ServiceRequest, ServiceResult
from schemas.personal import UnmarkedPersonalField, check_marks

__all__ = [
    "ENTITIES",
    "ENTITY_GROUP",
    "SERVICES",
    "EntityDescription",
    "EntityPackageError",
    "ServiceContract",
    "contract",
    "registered_entities",
]

ENTITY_GROUP = "ventanilla.entities"


class EntityPackageError(ValueError):
    """An entity package that cannot be used; the message names the package and the fault."""


class EntityDescription(Protocol):
    """What the bus needs to know of an entity package (its adapter side lives in services/)."""

    @property
    def entity(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def contracts(self) -> tuple[ServiceContract[Any, Any], ...]: ...


@cache
def registered_entities() -> tuple[EntityDescription, ...]:
    """Every installed entity package, checked, in a stable order (by entity id)."""
    found: dict[str, EntityDescription] = {}
    for point in sorted(entry_points(group=ENTITY_GROUP), key=lambda p: p.name):
        package = load_package(point)
        if package.entity in found:
            raise EntityPackageError(
                f"entity package {_origin(point)}: entity {package.entity!r} is registered twice"
            )
        found[package.entity] = package
    if not found:
        raise EntityPackageError(
            f"no entity package is installed (entry point group {ENTITY_GROUP})"
        )
    return tuple(found.values())


def load_package(point: EntryPoint) -> EntityDescription:
    """The object an entry point names, checked; raises `EntityPackageError` naming the fault."""
    where = f"entity package {_origin(point)}"
    try:
        package = point.load()
    except Exception as exc:
        raise EntityPackageError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    for attribute in ("entity", "name", "contracts"):
        if not hasattr(package, attribute):
            raise EntityPackageError(f"{where}: its object has no {attribute!r}")
    for c in package.contracts:
        if not isinstance(c, ServiceContract):
            raise EntityPackageError(f"{where}: {c!r} is not a ServiceContract")
        if c.entity != package.entity:
            raise EntityPackageError(
                f"{where}: service {c.service!r} belongs to entity {c.entity!r}, "
                f"not {package.entity!r}"
            )
        if not (issubclass(c.request, ServiceRequest) and issubclass(c.result, ServiceResult)):
            raise EntityPackageError(
                f"{where}: service {c.service!r} must take a ServiceRequest and answer a "
                "ServiceResult"
            )
        for model in (c.request, c.result):
            try:
                check_marks(model)
            except UnmarkedPersonalField as exc:
                raise EntityPackageError(f"{where}: service {c.service!r}: {exc}") from None
    return package  # type: ignore[no-any-return]


def _origin(point: EntryPoint) -> str:
    dist = point.dist.name if point.dist is not None else "?"
    return f"{dist!r} ({point.name} = {point.value})"


K = TypeVar("K")
V = TypeVar("V")


class _Registered(Mapping[K, V]):
    """A read-only view filled from the registered packages the first time it is read."""

    def __init__(self, build: Any) -> None:
        self._build = build

    def _items(self) -> dict[K, V]:
        return self._build()  # type: ignore[no-any-return]

    def __getitem__(self, key: K) -> V:
        return self._items()[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


@cache
def _entities() -> dict[str, str]:
    return {p.entity: p.name for p in registered_entities()}


@cache
def _services() -> dict[tuple[str, str], ServiceContract[Any, Any]]:
    return {(c.entity, c.service): c for p in registered_entities() for c in p.contracts}


ENTITIES: Mapping[str, str] = _Registered(_entities)
SERVICES: Mapping[tuple[str, str], ServiceContract[Any, Any]] = _Registered(_services)


def contract(entity: str, service: str) -> ServiceContract[Any, Any]:
    return SERVICES[(entity, service)]
