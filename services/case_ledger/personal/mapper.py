"""The ledger's mapper: personal values are encrypted before an event is sealed and stored, and
opened (or shown `[erased]`) when it is read back.

Encryption happens here, ahead of the hash chain (`audit.chain`), so the chain covers the
ciphertext: destroying a key changes no stored byte and `audit verify` keeps passing.

Most events name their citizen themselves (the case's citizen, the request's `citizen`). A
step's result does not: while it saves, the ledger says whose each step is (`step_subjects`).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent

from ..audit.chain import ChainMapper
from .fields import PersonalFields

StepSubjects = Callable[[UUID, str], str | None]

_step_subjects: ContextVar[StepSubjects | None] = ContextVar("step_subjects", default=None)


@contextmanager
def step_subjects(resolver: StepSubjects) -> Iterator[None]:
    """While saving: the citizen (DNI) each step of the cases being saved is about."""
    token = _step_subjects.set(resolver)
    try:
        yield
    finally:
        _step_subjects.reset(token)


class PersonalDataMapper(ChainMapper):
    # Attached once the recorder exists: the keys live in the same database as the events.
    fields: PersonalFields | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        fields = self._fields()
        state = dict(vars(domain_event))
        case_id = domain_event.originator_id
        sealed = fields.encrypt(str(case_id), state, _subject(case_id, state))
        clone = object.__new__(type(domain_event))
        object.__setattr__(clone, "__dict__", sealed)
        return super().to_stored_event(clone)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        opened = self._fields().decrypt(str(event.originator_id), dict(vars(event)))
        object.__setattr__(event, "__dict__", opened)
        return event

    def _fields(self) -> PersonalFields:
        if self.fields is None:
            raise RuntimeError("the personal data keys are not attached to the mapper")
        return self.fields


def _subject(case_id: UUID, state: dict[str, Any]) -> str | None:
    request = state.get("request")
    for holder in (state, request if isinstance(request, dict) else {}):
        citizen = holder.get("citizen")
        if isinstance(citizen, dict) and citizen.get("document_number"):
            return str(citizen["document_number"])
    resolver = _step_subjects.get()
    step_id = state.get("step_id")
    if resolver is None or not isinstance(step_id, str):
        return None
    return resolver(case_id, step_id)
