"""What an entity package hands the bus: one object, named in the `ventanilla.entities` group.

```toml
[project.entry-points."ventanilla.entities"]
notaria = "ventanilla_notaria:package"
```

The object carries the entity's adapter (its handlers, each bound to a service contract) and the
default back office (the demo's fake; `ventanilla serve adapter --back-office module:factory`
takes another one). The procedures that use the entity's services are not in the package: they
are catalog files (docs/catalog.md). The six reference entities register the same way in this
project's pyproject.toml.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.entities import ServiceContract

from .backoffices.effects import EffectLog
from .sdk import EntityAdapter

# Builds a back office; the demo's fakes record their effects in the log a real one ignores.
BackOfficeFactory = Callable[[EffectLog], Any]


@dataclass(frozen=True)
class EntityPackage:
    entity: str
    name: str
    adapter: EntityAdapter[Any]
    back_office: BackOfficeFactory

    def __post_init__(self) -> None:
        if self.adapter.entity != self.entity:
            raise ValueError(
                f"entity {self.entity!r} carries the adapter of {self.adapter.entity!r}"
            )

    @property
    def contracts(self) -> tuple[ServiceContract[Any, Any], ...]:
        return self.adapter.contracts
