"""Encryption and erasure with the whole bus running: real adapters, a real nats-server, the
ledger on SQLite and on PostgreSQL, histories read over HTTP as an auditor would."""

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from nats.aio.client import Client

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.audit.ledger_audit import AuditFiles, LedgerAudit
from services.case_ledger.domain import ERASED
from services.case_ledger.store import LedgerStore
from services.credentials import Principal, TokenFile, TokenRecord, hash_token
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.nats_case_bus import NatsCaseBus
from services.stack.natsd import EmbeddedNats
from tests.factories import BUYER, SELLER, TRANSFER, secrets_of, submit_command
from tests.integration.raw_events import RawEvents
from tests.integration.stack import local_stack, submit

pytestmark = pytest.mark.integration


async def auditor_history(http: httpx.AsyncClient, case_id: UUID) -> dict[str, Any]:
    response = await http.get(
        f"/v1/cases/{case_id}/history?purpose=control+interno",
        headers={"Authorization": "Bearer audit"},
    )
    assert response.status_code == 200, response.text
    history: dict[str, Any] = response.json()
    return history


def submitted(history: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = history["events"][0]["data"]
    return data


async def test_cases_complete_encrypted_and_an_erasure_shows_over_http(
    nc: Client, nats_server: EmbeddedNats, store: LedgerStore, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.json"
    auditor = Principal(kind="auditor", id="auditor")
    tokens.write_text(
        TokenFile(
            tokens=[TokenRecord(sha256=hash_token("audit"), principal=auditor)]
        ).model_dump_json()
    )
    app = create_app(NatsCaseBus(nc), TokenBook(tokens))
    transport = httpx.ASGITransport(app=app)
    async with (
        local_stack(store, nats_server.url) as stack,
        httpx.AsyncClient(transport=transport, base_url="http://gw") as http,
    ):
        stream = nc.jetstream()
        transfer = await submit(
            stream, submit_command(BUYER, procedure="transferencia-vehicular", inputs=TRANSFER)
        )
        passport = await submit(
            stream, submit_command(BUYER, procedure="pasaporte-electronico", inputs={})
        )
        # Every entity got the DNIs and names it needed: RENIEC knew both citizens, SUNARP the
        # seller as the owner, Migraciones the name RENIEC holds.
        assert await stack.wait_final(transfer, within=60) == "completed"
        assert await stack.wait_final(passport, within=60) == "completed"
        assert stack.effects["sunarp"].count("transfer-registered") == 1

        raw = RawEvents(store)
        text = b"\n".join(r.state for c in (transfer, passport) for r in raw.rows(c))
        leaks = [s for s in secrets_of(BUYER, SELLER) if s.encode() in text]
        assert leaks == []
        before = await auditor_history(http, transfer)
        assert submitted(before)["inputs"]["seller_dni"] == SELLER

        eraser = CaseLedger(catalog(), store.environment())  # as `ventanilla citizen erase`
        try:
            assert eraser.erase_citizen(SELLER).cases == 1
        finally:
            eraser.close()

        # The running ledger stops using the key within its cache's few seconds.
        async with asyncio.timeout(20):
            while (
                submitted(after := await auditor_history(http, transfer))["inputs"]["seller_dni"]
                != ERASED
            ):
                await asyncio.sleep(0.5)
        passport_history = await auditor_history(http, passport)

    shown = json.dumps(after, ensure_ascii=False)
    assert [s for s in secrets_of(SELLER) if s in shown] == []
    assert submitted(after)["citizen"]["document_number"] == BUYER
    assert [e["type"] for e in after["events"]] == [e["type"] for e in before["events"]]
    assert all(s in json.dumps(passport_history, ensure_ascii=False) for s in secrets_of(BUYER))
    reader = CaseLedger(catalog(), store.environment())
    try:
        assert reader.case_view(transfer).status == "completed"
        files = AuditFiles(tmp_path / "key.pem", tmp_path / "checkpoints.jsonl")
        report = LedgerAudit(reader.recorder, files).verify()
    finally:
        reader.close()
    assert report.intact, report.findings
