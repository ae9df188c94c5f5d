"""Writing and reading sealed events: the ledger's mapper and event store.

`ChainedEventStore.put` seals each new event with the hash of its case's previous stored event
(see `eventhash`), so the seal is written by the same insert, in the same transaction, as the
event. The previous hash is read from the store: stored events never change, and the store's
(case, version) key refuses a concurrent writer of the same version, so the link read before the
insert is still the right one when the insert commits. `ChainMapper` strips the seal when
reading; checking it is the auditor's job (`verify`), not every reader's.
"""

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import EventStore, Mapper, Notification, Recording, StoredEvent

from .eventhash import GENESIS, seal, stored_hash, unseal

_CACHE_SIZE = 10_000


class ChainMapper(Mapper[UUID]):
    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        payload = unseal(stored_event.state).payload
        return super().to_domain_event(
            StoredEvent(
                originator_id=stored_event.originator_id,
                originator_version=stored_event.originator_version,
                topic=stored_event.topic,
                state=payload,
            )
        )


class ChainedEventStore(EventStore[UUID]):
    def __init__(self, mapper: Mapper[UUID], recorder: Any) -> None:
        super().__init__(mapper, recorder)
        # (case, version) -> hash of that stored event: saves a read per save of a busy case.
        self._heads: OrderedDict[tuple[str, int], bytes] = OrderedDict()

    def put(
        self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        stored = [self.mapper.to_stored_event(e) for e in domain_events]
        sealed, heads = self._seal(stored)
        notification_ids = self.recorder.insert_events(sealed, **kwargs)
        for key, value in heads.items():
            self._remember(key, value)
        if not notification_ids:
            return []
        return [
            Recording(d, Notification(s.originator_id, s.originator_version, s.topic, s.state, n))
            for d, s, n in zip(domain_events, sealed, notification_ids, strict=True)
        ]

    def _seal(
        self, stored: list[StoredEvent]
    ) -> tuple[list[StoredEvent], dict[tuple[str, int], bytes]]:
        heads: dict[tuple[str, int], bytes] = {}
        sealed: list[StoredEvent] = []
        for event in stored:
            case, version = str(event.originator_id), event.originator_version
            prev = heads.get((case, version - 1)) or self._hash_of(event.originator_id, version - 1)
            state = seal(case, version, event.topic, prev, event.state)
            heads[(case, version)] = stored_hash(state)
            sealed.append(StoredEvent(event.originator_id, version, event.topic, state))
        return sealed, heads

    def _hash_of(self, originator_id: UUID | str, version: int) -> bytes:
        if version < 1:
            return GENESIS
        key = (str(originator_id), version)
        cached = self._heads.get(key)
        if cached is not None:
            return cached
        found = self.recorder.select_events(originator_id, gt=version - 1, lte=version, limit=1)
        if not found:
            raise LookupError(f"case {originator_id} has no stored event {version} to link to")
        return stored_hash(found[0].state)

    def _remember(self, key: tuple[str, int], value: bytes) -> None:
        self._heads[key] = value
        self._heads.move_to_end(key)
        while len(self._heads) > _CACHE_SIZE:
            self._heads.popitem(last=False)
