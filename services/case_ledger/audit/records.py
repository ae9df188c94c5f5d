"""The ledger's events exactly as stored, in ledger (notification) order."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class LedgerRecord:
    position: int
    case_id: str
    version: int
    topic: str
    state: bytes


class NotificationLog(Protocol):
    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None, *args: Any, **kwargs: Any
    ) -> Any: ...


def read_records(
    log: NotificationLog, start: int = 1, stop: int | None = None, page: int = 1000
) -> Iterator[LedgerRecord]:
    """Every stored event from `start` to `stop` (inclusive), a page at a time."""
    position = start
    while True:
        batch = log.select_notifications(start=position, limit=page, stop=stop)
        for n in batch:
            yield LedgerRecord(
                position=n.id,
                case_id=str(n.originator_id),
                version=n.originator_version,
                topic=n.topic,
                state=bytes(n.state),
            )
        if len(batch) < page:
            return
        position = batch[-1].id + 1
