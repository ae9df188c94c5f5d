"""Opening the ledger's store while another process may be creating it at the same moment.

`ventanilla up` on a new PostgreSQL database starts the ledger and the metrics exporter side by
side, and both create the store's tables (`CREATE TABLE IF NOT EXISTS`). PostgreSQL lets two
such statements for one table collide in its catalog (a unique violation, or "tuple
concurrently updated") rather than make one wait for the other, so one of the two processes
failed at its first start. The one that loses opens the store again: by then the tables are
there.
"""

import time

from eventsourcing.persistence import IntegrityError, InternalError

from schemas.catalog import ProcedureSpec

from .application import CaseLedger

ATTEMPTS = 5


def open_case_ledger(
    catalog: dict[str, ProcedureSpec], env: dict[str, str], cached_cases: int = 0
) -> CaseLedger:
    """`CaseLedger(...)`, opened again (up to ATTEMPTS times) when creating its tables collided
    with another process creating them."""
    attempt = 1
    while True:
        try:
            return CaseLedger(catalog, env, cached_cases=cached_cases)
        except (IntegrityError, InternalError):
            if attempt == ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)  # the other process is finishing the same tables
            attempt += 1
