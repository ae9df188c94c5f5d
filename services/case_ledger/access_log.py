"""A citizen's "who used my data" view: every DL 1211 exchange in the cases they take part in.

Answered from the access-log projection (`access_projection`), kept from the ledger's log in the
ledger's own database: the cost of a query grows with that citizen's records, not with the size
of the ledger.
"""

from schemas.views import CitizenAccessLog

from .application import CaseLedger


def citizen_access_log(ledger: CaseLedger, document_number: str) -> CitizenAccessLog:
    return CitizenAccessLog(entries=ledger.access.access_log(document_number))
