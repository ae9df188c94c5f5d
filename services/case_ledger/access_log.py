"""A citizen's "who used my data" view: every DL 1211 exchange in the cases they take part in.

It reads the ledger's notification log from the start: cases open before their data is shared,
so one pass in log order finds the citizen's cases and then their `DataShared` events. That is
linear in the size of the ledger: fine for a local stack and for audits, while a national ledger
would keep this as a projection (a table maintained from the same log with a tracking position).
"""

from typing import Any
from uuid import UUID

from schemas.catalog import citizen_inputs
from schemas.views import CitizenAccessLog, DataAccess

from .application import CaseLedger

_RELEVANT = ("CaseSubmitted", "DataShared")


def citizen_access_log(
    ledger: CaseLedger, document_number: str, batch: int = 1000
) -> CitizenAccessLog:
    cases: dict[UUID, tuple[str, str]] = {}  # case id -> (procedure, the citizen's role)
    entries: list[DataAccess] = []
    position = 0
    while True:
        notifications = ledger.notifications_after(position, batch)
        for notification in notifications:
            position = notification.id
            if notification.topic.rsplit(".", 1)[-1] not in _RELEVANT:
                continue
            event: Any = ledger.mapper.to_domain_event(notification)
            case_id = UUID(str(event.originator_id))
            if type(event).__name__ == "CaseSubmitted":
                role = _role_of(ledger, event, document_number)
                if role is not None:
                    cases[case_id] = (event.procedure, role)
            elif case_id in cases:
                procedure, role = cases[case_id]
                entries.append(
                    DataAccess(
                        case_id=case_id,
                        procedure=procedure,
                        role=role,
                        occurred_at=event.timestamp,
                        from_entity=event.from_entity,
                        from_step=event.from_step,
                        to_entity=event.to_entity,
                        to_step=event.to_step,
                        fields=list(event.fields),
                        purpose=event.purpose,
                        legal_basis=event.legal_basis,
                    )
                )
        if len(notifications) < batch:
            return CitizenAccessLog(entries=entries)


def _role_of(ledger: CaseLedger, submitted: Any, document_number: str) -> str | None:
    if submitted.citizen.get("document_number") == document_number:
        return "applicant"
    proc = ledger.catalog.get(submitted.procedure)
    names = citizen_inputs(proc) if proc is not None else frozenset()
    for name in sorted(names):
        if submitted.inputs.get(name) == document_number:
            return name
    return None
