"""The entity packages this installation runs, and the back office each adapter talks to.

Entities come from the `ventanilla.entities` entry point group (schemas/entities); the back
office is the package's default (the demo's fake) unless configuration names a factory,
`module:attribute`, that builds it.
"""

import importlib
from pathlib import Path
from typing import Any

from schemas.entities import EntityPackageError, registered_entities

from .package import BackOfficeFactory, EntityPackage, HttpBackOffice


class BackOfficeFactoryError(ValueError):
    """A configured back-office factory that cannot be used; the message names it and why."""


def entity_packages() -> dict[str, EntityPackage]:
    """Every registered entity package, by entity id; refuses one that is not an EntityPackage."""
    packages: dict[str, EntityPackage] = {}
    for package in registered_entities():
        if not isinstance(package, EntityPackage):
            raise EntityPackageError(
                f"entity package {package.entity!r}: its object is a "
                f"{type(package).__name__}, not a services.entity_adapters.package.EntityPackage"
            )
        packages[package.entity] = package
    return packages


def entity_ids() -> tuple[str, ...]:
    return tuple(entity_packages())


def back_office_factory(entity: str, configured: str | None = None) -> BackOfficeFactory:
    """`entity`'s back-office factory: the configured `module:attribute`, else the default."""
    packages = entity_packages()
    if entity not in packages:
        raise EntityPackageError(f"unknown entity {entity!r}; known: {', '.join(packages)}")
    if not configured:
        return packages[entity].back_office
    module_name, _, attribute = configured.partition(":")
    where = f"back office {configured!r} of entity {entity!r}"
    if not module_name or not attribute:
        raise BackOfficeFactoryError(f"{where}: write it as module:factory")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise BackOfficeFactoryError(
            f"{where} cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc
    factory: Any = getattr(module, attribute, None)
    if not callable(factory):
        raise BackOfficeFactoryError(f"{where}: {module_name} has no callable {attribute!r}")
    return factory  # type: ignore[no-any-return]


def http_back_offices() -> dict[str, HttpBackOffice]:
    """The back offices that run as their own HTTP service in a local stack, by entity id."""
    return {
        entity: package.http_back_office
        for entity, package in entity_packages().items()
        if package.http_back_office is not None
    }


def effects_file(backoffices_dir: Path, entity: str) -> Path:
    return backoffices_dir / f"{entity}.sqlite"
