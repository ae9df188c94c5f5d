"""The adapter SDK's face to an entity developer: declare handlers, return typed results."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.entities import SERVICES, ServiceContract
from schemas.entities.base import ServiceResult
from services.errors import BackOfficeUnavailable, StepRefused

from .answers import AnswerDueWork
from .deferred import Accepted

# A handler takes the service's typed request and the entity's back-office client.
Handler = Callable[[Any, Any], Awaitable[ServiceResult | Accepted]]

__all__ = ["Accepted", "BackOfficeUnavailable", "EntityAdapter", "Handler", "StepRefused"]


@dataclass(frozen=True)
class EntityAdapter:
    """An entity's services on the bus.

    A handler returns the service's result model, raises `StepRefused(reason)` for a final
    business refusal, or raises `BackOfficeUnavailable` (or anything else) to be retried. It
    may return `Accepted(expected_by)` instead: its final answer is then published later, by
    `answer_due` (run by the adapter process) or by any process with the entity's credentials.
    """

    entity: str
    handlers: Mapping[str, Handler]
    answer_due: AnswerDueWork | None = None

    def __post_init__(self) -> None:
        for service in self.handlers:
            if (self.entity, service) not in SERVICES:
                raise ValueError(f"{self.entity} offers no service {service!r} in the catalog")

    def contract(self, service: str) -> ServiceContract | None:
        if service not in self.handlers:
            return None
        return SERVICES[(self.entity, service)]
