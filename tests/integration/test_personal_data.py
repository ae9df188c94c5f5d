"""No document number, name or birth date of a citizen leaves the ledger's encrypted events.

Every reference procedure runs with the demo citizens through the gateway, over a server with
per-role users, while everything an operator could read is captured: every log event (structlog
and the standard library), every span (name, attributes, events) and every NATS subject and
header on the bus (an admin subscribed to `>`). Identifiers there are case ids and entity ids.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from nats.aio.msg import Msg
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from structlog.testing import capture_logs

from services.case_ledger.store import LedgerStore
from services.credentials import Principal, TokenFile, TokenRecord, hash_token
from services.entity_adapters.backoffices.demo import RENIEC_REGISTRY
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.nats_case_bus import NatsCaseBus
from tests.factories import SCENARIOS
from tests.integration.secured_bus import SecuredBus, secured_bus
from tests.integration.stack import local_stack

pytestmark = pytest.mark.integration

DEMO_DNIS = [f"4000000{n}" for n in range(1, 8)]


def personal_data() -> set[str]:
    """Every piece of the demo citizens' identity that must not show outside the ledger."""
    found = set(DEMO_DNIS)
    for person in RENIEC_REGISTRY.values():
        found |= {person.given_names, person.surnames, person.birth_date.isoformat()}
        found |= {
            name for name in f"{person.given_names} {person.surnames}".split() if len(name) > 3
        }
    return found


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[SecuredBus]:
    with secured_bus(tmp_path / "bus") as secured:
        yield secured


def span_text(exporter: InMemorySpanExporter) -> list[str]:
    texts = []
    for span in exporter.get_finished_spans():
        texts.append(span.name)
        texts.append(json.dumps(dict(span.attributes or {}), default=str, ensure_ascii=False))
        texts.extend(
            f"{e.name} {json.dumps(dict(e.attributes or {}), default=str, ensure_ascii=False)}"
            for e in span.events
        )
    return texts


async def test_no_personal_data_in_logs_traces_or_subjects(
    bus: SecuredBus,
    sqlite_store: LedgerStore,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    tokens = tmp_path / "tokens.json"
    channel = Principal(kind="channel", id="mac-lima-norte")
    tokens.write_text(
        TokenFile(tokens=[TokenRecord(sha256=hash_token("t"), principal=channel)]).model_dump_json()
    )
    on_the_bus: list[str] = []

    async def watch(msg: Msg) -> None:
        on_the_bus.append(
            f"{msg.subject} {json.dumps(dict(msg.headers or {}), ensure_ascii=False)}"
        )

    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        async with (
            bus.client("admin") as (monitor, _),
            local_stack(sqlite_store, bus.url, login_for=bus.login) as stack,
            bus.client("gateway") as (gateway_nc, _),
        ):
            await monitor.subscribe(">", cb=watch)
            app = create_app(NatsCaseBus(gateway_nc), TokenBook(tokens))
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
                async with asyncio.timeout(15):
                    while (await http.get("/readyz")).status_code != 200:
                        await asyncio.sleep(0.1)
                case_ids: dict[str, UUID] = {}
                for name, scenario in SCENARIOS.items():
                    response = await http.post(
                        "/v1/cases",
                        headers={"Authorization": "Bearer t", "Idempotency-Key": str(uuid4())},
                        json={
                            "procedure": scenario.procedure,
                            "citizen": {"document_type": "DNI", "document_number": scenario.dni},
                            "inputs": scenario.inputs,
                        },
                    )
                    assert response.status_code == 202, response.text
                    case_ids[name] = UUID(response.json()["case_id"])
                statuses = await asyncio.gather(
                    *(stack.wait_final(case_id, within=90) for case_id in case_ids.values())
                )
                for case_id in case_ids.values():
                    assert (
                        await http.get(
                            f"/v1/cases/{case_id}/history?purpose=control+interno",
                            headers={"Authorization": "Bearer t"},
                        )
                    ).status_code == 200
            await monitor.flush()

    assert statuses == [s.status for s in SCENARIOS.values()]
    captured: dict[str, list[str]] = {
        "structlog": [json.dumps(e, default=str, ensure_ascii=False) for e in logs],
        "logging": [r.getMessage() for r in caplog.records],
        "spans": span_text(spans),
        "nats": on_the_bus,
    }
    # What was captured is the real traffic of thirteen cases, not an empty net.
    assert len(logs) > 50
    assert len(on_the_bus) > 50
    assert spans.get_finished_spans()
    leaks = [
        (where, secret, line)
        for where, lines in captured.items()
        for line in lines
        for secret in personal_data()
        if secret in line
    ]
    assert leaks == []
