"""What an entity package hands the bus: one object, named in the `ventanilla.entities` group.

```toml
[project.entry-points."ventanilla.entities"]
notaria = "ventanilla_notaria:package"
```

The object carries the entity's adapter (its handlers, each bound to a service contract) and the
default back office (the demo's fake; `ventanilla serve adapter --back-office module:factory`
takes another one). A reference back office that can also run as its own HTTP service says so
with `http_back_office`: `ventanilla up` then runs it (`ventanilla serve backoffice ENTITY`) and
the adapter reaches it over HTTP with the package's client. The procedures that use the
entity's services are not in the package: they are catalog files (docs/catalog.md). The six
reference entities register the same way in this project's pyproject.toml.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.entities import ServiceContract

from .backoffices.effects import EffectLog
from .sdk import EntityAdapter

# Builds a back office; the demo's fakes record their effects in the log a real one ignores.
BackOfficeFactory = Callable[[EffectLog], Any]


@dataclass(frozen=True)
class HttpBackOffice:
    """A back office run as its own HTTP service, and the client its adapter reaches it with."""

    serve: Callable[[Path, str, int], None]  # its store, host and port; runs in the foreground
    client: Callable[[str], Any]  # the service's base URL -> the adapter's back-office client


@dataclass(frozen=True)
class EntityPackage:
    entity: str
    name: str
    adapter: EntityAdapter[Any]
    back_office: BackOfficeFactory
    http_back_office: HttpBackOffice | None = None

    def __post_init__(self) -> None:
        if self.adapter.entity != self.entity:
            raise ValueError(
                f"entity {self.entity!r} carries the adapter of {self.adapter.entity!r}"
            )

    @property
    def contracts(self) -> tuple[ServiceContract[Any, Any], ...]:
        return self.adapter.contracts
