"""Every reference procedure for every demo citizen, then the raw database scanned for them.

The whole path runs: adapters on a real nats-server, the ledger on SQLite and on PostgreSQL.
Afterwards every row of every table is read with SQL, as anyone holding a copy of the database
would read it: no demo citizen's DNI, name or birth date may be there, not even inside another
value (a natural person's RUC holds the DNI).
"""

from typing import Any

import pytest
from nats.js import JetStreamContext

from schemas.procedures import catalog
from services.case_ledger.store import LedgerStore
from services.entity_adapters.backoffices.demo import (
    OWNER_OF_ABC123,
    RENIEC_REGISTRY,
    UNKNOWN_TO_RENIEC,
)
from services.entity_adapters.backoffices.sunat import ruc_for
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.raw_events import RawEvents
from tests.integration.stack import local_stack, submit

pytestmark = pytest.mark.integration

CITIZENS = sorted({*RENIEC_REGISTRY, UNKNOWN_TO_RENIEC})
INPUTS: dict[str, dict[str, Any]] = {
    "duplicado-dni": {"reason": "perdida"},
    "pasaporte-electronico": {},
    "transferencia-vehicular": {
        "plate": "ABC-123",
        "seller_dni": OWNER_OF_ABC123,
        "price_pen": 25000,
    },
    "inscripcion-ruc": {"activity_code": "4711"},
}


def secrets() -> dict[str, str]:
    """What would give a demo citizen away, each with what it is."""
    found = {}
    for dni in CITIZENS:
        found[dni] = f"DNI {dni}"
        found[ruc_for(dni)] = f"RUC of {dni}"
    for dni, person in RENIEC_REGISTRY.items():
        found[person.given_names] = f"given names of {dni}"
        found[person.surnames] = f"surnames of {dni}"
        for word in person.surnames.split():
            found[word] = f"a surname of {dni}"
        found[person.birth_date.isoformat()] = f"birth date of {dni}"
        found[person.birth_date.strftime("%d/%m/%Y")] = f"birth date of {dni}"
    return found


async def test_no_demo_citizens_personal_data_is_stored_in_clear(
    store: LedgerStore, js: JetStreamContext, nats_server: EmbeddedNats
) -> None:
    assert set(INPUTS) == set(catalog())  # every reference procedure
    async with local_stack(store, nats_server.url) as stack:
        cases = [
            await submit(js, submit_command(dni, procedure=code, inputs=inputs))
            for dni in CITIZENS
            for code, inputs in INPUTS.items()
        ]
        finals = [await stack.wait_final(case_id, within=120) for case_id in cases]
    assert "completed" in finals
    assert "rejected" in finals

    tables = RawEvents(store).every_table()
    assert sum(len(blob) for blob in tables.values()) > 100_000  # the cases are really there
    # The scan reads values as stored: what is not personal (a plate) is found in clear.
    assert any(b"ABC-123" in blob for blob in tables.values())
    leaks = [
        f"{what} in table {table}"
        for table, blob in tables.items()
        for secret, what in secrets().items()
        if secret.encode() in blob
    ]
    assert leaks == []
