"""A citizen's "who used my data" view: every DL 1211 exchange in the cases they take part in,
and every read of their personal data ("consultado por").

Answered from the access-log projection (`access_projection`) and the read log (`reads`), both
kept in the ledger's own database: the cost of a query grows with that citizen's records, not
with the size of the ledger. Recording a read goes through here too, so each reader (the
gateway's queries, the CLI, a clerk's case view) records it the same way.
"""

from uuid import UUID

from schemas.queries import ReadContext
from schemas.views import CitizenAccessLog

from .application import CaseLedger
from .reads import data_read

CASE_HISTORY, CASE_REPLAY, CASE_VIEW = "case-history", "case-replay", "case-view"
ACCESS_LOG, BUNDLE_EXPORT = "citizen-access-log", "bundle-export"


def citizen_access_log(
    ledger: CaseLedger, document_number: str, read: ReadContext | None = None
) -> CitizenAccessLog:
    """The citizen's log; with `read`, this reading of it is recorded first (and listed)."""
    entries = [] if read is not None and read.refused else ledger.access.access_log(document_number)
    citizen = ledger.citizen_keys.key_id_of(document_number)
    if citizen is None:
        return CitizenAccessLog(entries=entries)
    if read is not None:
        ledger.reads.record([(citizen, data_read(read, ACCESS_LOG, None, None))])
    if read is not None and read.refused:
        return CitizenAccessLog(entries=[])
    return CitizenAccessLog(entries=entries, reads=ledger.reads.of(citizen))


def record_case_read(ledger: CaseLedger, case_id: UUID, read: ReadContext, action: str) -> int:
    """Record that `read` read (or was refused) the personal data of a case: one row per
    citizen of the case. The hook for every reader of a case; how many citizens it concerned."""
    ledger.access.catch_up()
    citizens = ledger.access.table.citizens_of([str(case_id)])
    ledger.reads.record((c.citizen, data_read(read, action, case_id, c.role)) for c in citizens)
    return len(citizens)
