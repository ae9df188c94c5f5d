"""The adapter SDK's face to an entity developer: typed handlers registered by their contract.

```python
async def duplicado_dni(req: DniDuplicateRequest, reniec: ReniecBackOffice) -> DniDuplicateIssued:
    ...

adapter = EntityAdapter(ENTITY, handlers=(handle(DUPLICADO_DNI, duplicado_dni),))
```

`handle` ties a handler to a service's `ServiceContract`: mypy refuses a handler whose request
or result is not the contract's, and, for code mypy never saw, `handle` checks the handler's
annotations against the contract when the adapter is built, that is when its module is imported
at start-up.
"""

import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from schemas.entities.base import Request, Result, ServiceContract
from services.errors import BackOfficeUnavailable, StepRefused, VentanillaError

from .answers import AnswerDueWork
from .deferred import Accepted

__all__ = [
    "Accepted",
    "BackOfficeUnavailable",
    "EntityAdapter",
    "HandlerMismatch",
    "ServiceHandler",
    "StepRefused",
    "handle",
]

BackOffice = TypeVar("BackOffice")

# What a handler may return besides its contract's result: `Accepted`, a deferred answer whose
# final result is published later (services/entity_adapters/answers.py).
OTHER_ANSWERS: tuple[type, ...] = (Accepted,)


class HandlerMismatch(VentanillaError, TypeError):
    """A handler registered for a service whose contract says other types."""


@dataclass(frozen=True)
class ServiceHandler(Generic[BackOffice]):
    """One service's contract and the handler that performs it."""

    contract: ServiceContract[Any, Any]
    call: Callable[[Any, BackOffice], Awaitable[Any]]


def handle(
    contract: ServiceContract[Request, Result],
    handler: Callable[[Request, BackOffice], Awaitable[Result | Accepted]],
) -> ServiceHandler[BackOffice]:
    """Register `handler` as the service of `contract`; refuses mismatched annotations."""
    _check_annotations(contract, handler)
    return ServiceHandler(contract, handler)


@dataclass(frozen=True)
class EntityAdapter(Generic[BackOffice]):
    """An entity's services on the bus.

    A handler returns the service's result model, raises `StepRefused(reason)` for a final
    business refusal, or raises `BackOfficeUnavailable` (or anything else) to be retried. It
    may return `Accepted(expected_by)` instead: its final answer is then published later, by
    `answer_due` (run by the adapter process) or by any process with the entity's credentials.
    """

    entity: str
    handlers: Sequence[ServiceHandler[BackOffice]]
    answer_due: AnswerDueWork | None = None
    _by_service: Mapping[str, ServiceHandler[BackOffice]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_service: dict[str, ServiceHandler[BackOffice]] = {}
        for bound in self.handlers:
            service = bound.contract.service
            if bound.contract.entity != self.entity:
                raise HandlerMismatch(
                    f"entity {self.entity!r}: handler for {bound.contract.entity}/{service} "
                    "belongs to another entity"
                )
            if service in by_service:
                raise HandlerMismatch(f"entity {self.entity!r}: two handlers for {service!r}")
            by_service[service] = bound
        object.__setattr__(self, "_by_service", by_service)

    @property
    def contracts(self) -> tuple[ServiceContract[Any, Any], ...]:
        return tuple(h.contract for h in self.handlers)

    def handler(self, service: str) -> ServiceHandler[BackOffice] | None:
        return self._by_service.get(service)


def _check_annotations(contract: ServiceContract[Any, Any], handler: Callable[..., Any]) -> None:
    where = f"entity {contract.entity!r}, service {contract.service!r}: handler {_name(handler)}"
    if not inspect.iscoroutinefunction(handler):
        raise HandlerMismatch(f"{where} is not an async function")
    try:
        hints = typing.get_type_hints(handler)
    except Exception as exc:
        raise HandlerMismatch(f"{where} has annotations that cannot be resolved: {exc}") from None
    params = list(inspect.signature(handler).parameters)
    if len(params) != 2:
        raise HandlerMismatch(f"{where} must take (request, back_office), takes {params}")
    takes = hints.get(params[0])
    if takes is None:
        raise HandlerMismatch(f"{where}: its request parameter is not annotated")
    if not (isinstance(takes, type) and issubclass(contract.request, takes)):
        raise HandlerMismatch(
            f"{where} takes {_type_name(takes)}, the contract's request is "
            f"{contract.request.__name__}"
        )
    returns = hints.get("return")
    if returns is None:
        raise HandlerMismatch(f"{where}: its return type is not annotated")
    allowed = (contract.result, *OTHER_ANSWERS)
    members = typing.get_args(returns) if _is_union(returns) else (returns,)
    wrong = [
        m for m in members if not (isinstance(m, type) and any(issubclass(m, a) for a in allowed))
    ]
    if wrong or not any(isinstance(m, type) and issubclass(m, contract.result) for m in members):
        raise HandlerMismatch(
            f"{where} returns {_type_name(returns)}, the contract's result is "
            f"{contract.result.__name__}"
        )


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else repr(tp)
