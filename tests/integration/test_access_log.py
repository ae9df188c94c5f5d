"""A citizen's access log from a real ledger: the exchanges in every case they take part in."""

from pathlib import Path

import pytest
from nats.js import JetStreamContext
from typer.testing import CliRunner

from schemas.views import CitizenAccessLog
from services.case_ledger.access_log import citizen_access_log
from services.case_ledger.store import LedgerStore
from services.cli.main import app
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.stack import local_stack, submit

pytestmark = pytest.mark.integration

TRANSFER = {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000}


async def test_buyer_and_seller_each_see_the_exchanges_of_their_transfer(
    js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        transfer = await submit(
            js, submit_command("40000001", procedure="transferencia-vehicular", inputs=TRANSFER)
        )
        other = await submit(js, submit_command("40000003", reason="robo"))
        assert await stack.wait_final(transfer) == "completed"
        assert await stack.wait_final(other) == "completed"
        with stack.reading() as ledger:
            buyer = citizen_access_log(ledger, "40000001")
            seller = citizen_access_log(ledger, "40000007")
            stranger = citizen_access_log(ledger, "40000009")

    exchanges = {(e.from_entity, e.to_entity, tuple(e.fields)) for e in buyer.entries}
    assert exchanges == {
        ("sat", "sunarp", ("certificate_number",)),
        ("banco-nacion", "sunarp", ("receipt_number",)),
    }
    assert {e.case_id for e in buyer.entries} == {transfer}
    assert {e.role for e in buyer.entries} == {"applicant"}
    assert all(e.legal_basis == "DL 1211" and e.purpose for e in buyer.entries)
    assert {e.role for e in seller.entries} == {"seller_dni"}
    assert len(seller.entries) == len(buyer.entries)
    assert stranger == CitizenAccessLog(entries=[])


async def test_the_cli_prints_the_access_log_from_the_data_dir(
    js: JetStreamContext, nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    store = LedgerStore.sqlite(data_dir / "ledger" / "ledger.sqlite")
    async with local_stack(store, nats_server.url) as stack:
        case_id = await submit(js, submit_command("40000001"))
        assert await stack.wait_final(case_id) == "completed"

    result = CliRunner(env={"COLUMNS": "250"}).invoke(
        app,
        ["citizen", "access-log", "40000001", "--purpose", "pedido", "--data-dir", str(data_dir)],
    )
    assert result.exit_code == 0, result.output
    assert str(case_id) in result.output
    assert "banco-nacion (pago-tasa)" in result.output
    assert "reniec (duplicado-dni)" in result.output
    assert "DL 1211" in result.output
    assert "40000001" not in result.output
    refused = CliRunner().invoke(
        app, ["citizen", "access-log", "4000", "--purpose", "pedido", "--data-dir", str(data_dir)]
    )
    assert refused.exit_code == 1
    assert "8 digits" in refused.output
