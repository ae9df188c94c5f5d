"""The ANS report equals what the case histories say, on SQLite and PostgreSQL.

The ledger runs with the reference catalog except that RENIEC's deadline for a duplicate DNI is
half a second, and RENIEC's adapter starts late: the first case breaches it. Demo citizen
40000006's back offices fail twice per request before answering (retries inside one attempt).
"""

import asyncio
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from schemas.catalog import ProcedureSpec, build_catalog
from schemas.event_types import EventType
from schemas.procedures import DUPLICADO_DNI, catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.projections.sla import catch_up, ledger_sla_report
from services.case_ledger.projections.sla_rows import sla_rows_for
from services.case_ledger.store import LedgerStore
from services.credentials import Principal
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.nats_case_bus import NatsCaseBus
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.histories import bucketed_percentile, step_stories
from tests.http import auth, write_tokens
from tests.integration.stack import event_types, local_stack, submit

pytestmark = pytest.mark.integration

RENIEC_DEADLINE = timedelta(seconds=0.5)
TRANSFER = {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000}


def impatient_catalog() -> dict[str, ProcedureSpec]:
    fee, duplicate = DUPLICADO_DNI.steps
    hurried = replace(DUPLICADO_DNI, steps=(fee, replace(duplicate, deadline=RENIEC_DEADLINE)))
    return {**catalog(), **build_catalog((hurried,))}


def recomputed(
    ledger: CaseLedger, cases: list[UUID], procedures: dict[str, ProcedureSpec]
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The report's figures, from each case's history, by the rules docs/operations.md states."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(
        lambda: {"steps": 0, "within": 0, "durations": [], "breaches": set()}
    )
    for case_id in cases:
        events = ledger.case_history(case_id).events
        procedure = events[0].data["procedure"]
        for step_id, story in step_stories(events).items():
            key = (story.dispatched["entity"], story.dispatched["service"], procedure)
            group = groups[key]
            assert story.finished_at is not None  # every case ended
            taken = story.finished_at - story.dispatched_at
            group["steps"] += 1
            group["durations"].append(taken.total_seconds())
            deadline = procedures[procedure].step(step_id).deadline
            if taken <= deadline and not story.overdue:
                group["within"] += 1
            else:
                group["breaches"].add((str(case_id), step_id))
    return groups


async def test_the_report_equals_what_the_histories_say(
    js: JetStreamContext, nats_server: EmbeddedNats, store: LedgerStore
) -> None:
    procedures = impatient_catalog()
    started = datetime.now(UTC)
    async with local_stack(
        store, nats_server.url, entities=["banco-nacion", "sat", "sunarp"], procedures=procedures
    ) as stack:
        late = await submit(js, submit_command("40000001"))
        async with asyncio.timeout(20):
            while True:
                with stack.reading() as ledger:
                    if ledger.is_recorded(late) and EventType.STEP_OVERDUE in event_types(
                        ledger, late
                    ):
                        break
                await asyncio.sleep(0.1)
        stack.start_adapters(["reniec"])
        flaky = await submit(js, submit_command("40000006"))
        transfer = await submit(
            js, submit_command("40000001", procedure="transferencia-vehicular", inputs=TRANSFER)
        )
        cases = [late, flaky, transfer]
        for case_id in cases:
            assert await stack.wait_final(case_id, within=60) in ("completed", "rejected")

    with stack.reading() as ledger:
        ledger.catalog = procedures  # the report reads the deadlines the ledger ran with
        window = (started - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1))
        lines = ledger_sla_report(ledger, *window, now=datetime.now(UTC))
        expected = recomputed(ledger, cases, procedures)
        again = ledger_sla_report(ledger, *window, now=datetime.now(UTC))
        assert catch_up(ledger, sla_rows_for(ledger.recorder)) == 0  # tracked: nothing re-read
        only_reniec = ledger_sla_report(ledger, *window, now=datetime.now(UTC), entity="reniec")
        earlier = ledger_sla_report(
            ledger, started - timedelta(days=2), started - timedelta(days=1), datetime.now(UTC)
        )

    got = {(line.entity, line.service, line.procedure): line for line in lines}
    assert set(got) == set(expected)
    for key, want in expected.items():
        line = got[key]
        assert line.steps == want["steps"], key
        assert line.within == want["within"], key
        assert line.p50_s == bucketed_percentile(want["durations"], 50), key
        assert line.p95_s == bucketed_percentile(want["durations"], 95), key
        assert {(b.case_id, b.step_id) for b in line.breaches} == want["breaches"], key

    reniec = got[("reniec", "duplicado-dni", "duplicado-dni")]
    assert (str(late), "duplicado-dni") in {(b.case_id, b.step_id) for b in reniec.breaches}
    assert reniec.within_pct is not None
    assert reniec.within_pct < 100
    # 40000006's fee: answered after two failed calls, later than a first-time answer would be.
    fee = got[("banco-nacion", "pago-tasa", "duplicado-dni")]
    assert fee.steps == 2
    assert fee.p95_s is not None
    assert fee.p95_s >= 1.0  # the adapter waits at least ADAPTER_BACKOFF[0] before its retry
    transfer_lines = [line for key, line in got.items() if key[2] == "transferencia-vehicular"]
    assert len(transfer_lines) >= 4
    assert all(line.within_pct == 100 for line in transfer_lines)

    assert [line.as_dict() for line in again] == [line.as_dict() for line in lines]
    assert {line.entity for line in only_reniec} == {"reniec"}
    assert [line.as_dict() for line in only_reniec] == [
        line.as_dict() for line in lines if line.entity == "reniec"
    ]
    assert earlier == []


async def test_operators_read_the_report_over_http_and_channels_may_not(
    nc: Client, js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore,
    tmp_path: Path,
) -> None:  # fmt: skip
    tokens = tmp_path / "tokens.json"
    write_tokens(
        tokens,
        {
            "operator-token": Principal(kind="operator", id="operator"),
            "counter-token": Principal(kind="channel", id="mac-lima-norte"),
        },
    )
    app = create_app(NatsCaseBus(nc), TokenBook(tokens))
    started = datetime.now(UTC)
    async with (
        local_stack(sqlite_store, nats_server.url) as stack,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
    ):
        cases = [await submit(js, submit_command(dni)) for dni in ("40000001", "40000002")]
        for case_id in cases:
            await stack.wait_final(case_id)
        period = {
            "from": (started - timedelta(minutes=1)).isoformat(),
            "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        }
        answer = await http.get("/v1/sla", params=period, headers=auth("operator-token"))
        reniec = await http.get(
            "/v1/sla", params={**period, "entity": "reniec"}, headers=auth("operator-token")
        )
        refused = await http.get("/v1/sla", params=period, headers=auth("counter-token"))
        backwards = await http.get(
            "/v1/sla",
            params={"from": period["to"], "to": period["from"]},
            headers=auth("operator-token"),
        )
        with stack.reading() as ledger:
            direct = ledger_sla_report(
                ledger,
                datetime.fromisoformat(period["from"]),
                datetime.fromisoformat(period["to"]),
                now=datetime.now(UTC),
            )

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["from"] == period["from"].replace("+00:00", "Z")
    assert [
        (line["entity"], line["service"], line["steps"], line["within_deadline"])
        for line in report["lines"]
    ] == [(line.entity, line.service, line.steps, line.within) for line in direct]
    # Both fees and both RENIEC checks, each answered well within its 15 minutes.
    assert {(line["entity"], line["steps"]) for line in report["lines"]} == {
        ("banco-nacion", 2),
        ("reniec", 2),
    }
    assert all(line["within_deadline_pct"] == 100 for line in report["lines"])
    assert {line["entity"] for line in reniec.json()["lines"]} == {"reniec"}
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert backwards.status_code == 422
