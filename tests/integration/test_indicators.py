"""The management indicators equal what the case histories say, on SQLite and PostgreSQL, and
operators read them over HTTP (JSON and CSV) with the bus's dead letters.

RENIEC's deadline for a duplicate DNI is half a second and its adapter starts late, so the first
case's RENIEC step is retried; 40000002 is refused by RENIEC; 40000006's back offices fail
twice per request before answering; a request SAT cannot read becomes SAT's dead letter.
"""

import asyncio
import csv
import io
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from schemas import subjects
from schemas.catalog import ProcedureSpec, build_catalog
from schemas.procedures import DUPLICADO_DNI, catalog
from schemas.savings import savings_assumptions
from schemas.views import CaseHistory
from services.case_ledger.projections.indicators import ledger_indicators
from services.case_ledger.store import LedgerStore
from services.credentials import Principal
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.nats_case_bus import NatsCaseBus
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.histories import STEP_ENDINGS, bucketed_percentile, step_stories
from tests.http import auth, write_tokens
from tests.integration.stack import dead_letters, event_types, local_stack, submit

pytestmark = pytest.mark.integration

TRANSFER = {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000}


def impatient_catalog() -> dict[str, ProcedureSpec]:
    fee, duplicate = DUPLICADO_DNI.steps
    hurried = replace(
        DUPLICADO_DNI, steps=(fee, replace(duplicate, deadline=timedelta(seconds=0.5)))
    )
    return {**catalog(), **build_catalog((hurried,))}


def recomputed(histories: list[CaseHistory]) -> dict[str, Any]:
    """The indicators from each case's history, by the rules docs/operations.md states."""
    days: Counter[tuple[str, str]] = Counter()
    procs: dict[str, dict[str, Any]] = defaultdict(lambda: {"n": 0, "ends": Counter(), "t": []})
    ents: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: Counter[tuple[str, str | None, str | None]] = Counter()
    costs = {(s.entity, s.service): s for s in savings_assumptions().services}
    saved: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for history in histories:
        opened, last = history.events[0], history.events[-1]
        procedure = opened.data["procedure"]
        days[(history.channel, opened.occurred_at.date().isoformat())] += 1
        procs[procedure]["n"] += 1
        if last.type in ("CaseCompleted", "CaseRejected"):
            procs[procedure]["ends"][last.type] += 1
            procs[procedure]["t"].append((last.occurred_at - opened.occurred_at).total_seconds())
        stories = step_stories(history.events)
        dispatched = {step_id: story.dispatched for step_id, story in stories.items()}
        refused: list[str] = []
        failed: list[str] = []
        for e in history.events:
            if e.type in STEP_ENDINGS and e.data.get("step_id") in stories:
                (refused if e.type == "StepRejected" else failed).append(e.data["step_id"])
        for story in stories.values():
            ents[story.dispatched["entity"]]["steps"] += 1
            ents[story.dispatched["entity"]]["retries"] += story.retries
            if story.outcome is not None:
                ents[story.dispatched["entity"]][story.outcome] += 1
        line = saved[(history.channel, procedure)]
        if last.type != "CaseCompleted":
            line["not_counted"] += 1
        else:  # docs/impact.md: only a completed case's citizen was spared anything
            line["cases"] += 1
            spared = {
                (
                    dispatched[e.data["from_step"]]["entity"],
                    dispatched[e.data["from_step"]]["service"],
                )
                for e in history.events
                if e.type == "DataShared"
            }
            spared &= set(costs)
            line["documents"] += len(spared)
            line["entities"] += len({entity for entity, _ in spared})
            for key in spared:
                line["trips"] += costs[key].trips
                line["hours"] += costs[key].hours
                line["soles"] += costs[key].soles
        if last.type == "CaseRejected":
            decided = refused[0] if refused else failed[-1] if failed else None
            kind = "refused" if refused else "no-answer" if failed else "other"
            step = dispatched.get(decided) if decided else None
            reasons[(kind, step and step["entity"], step and step["service"])] += 1
    return {"days": days, "procs": procs, "ents": ents, "reasons": reasons, "saved": saved}


async def test_the_indicators_equal_what_the_histories_say(
    nc: Client, js: JetStreamContext, nats_server: EmbeddedNats, store: LedgerStore,
    tmp_path: Path,
) -> None:  # fmt: skip
    procedures = impatient_catalog()
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
    period = {
        "from": (started - timedelta(minutes=1)).isoformat(),
        "to": (started + timedelta(minutes=10)).isoformat(),
    }
    entities = ["banco-nacion", "sat", "sunarp"]
    async with (
        local_stack(store, nats_server.url, entities=entities, procedures=procedures) as stack,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
    ):
        late = await submit(js, submit_command("40000001"))
        async with asyncio.timeout(20):
            while True:
                with stack.reading() as ledger:
                    if ledger.is_recorded(late) and "StepOverdue" in event_types(ledger, late):
                        break
                await asyncio.sleep(0.1)
        stack.start_adapters(["reniec"])
        cases = [late]
        for dni in ("40000002", "40000006"):
            cases.append(await submit(js, submit_command(dni)))
        cases.append(
            await submit(
                js, submit_command("40000001", procedure="transferencia-vehicular", inputs=TRANSFER)
            )
        )
        for case_id in cases:
            assert await stack.wait_final(case_id, within=60) in ("completed", "rejected")
        await js.publish(
            subjects.work("sat", "certificado-no-adeudo"),
            b"not json",
            headers={"Nats-Msg-Id": "indicators-garbage-1"},
        )
        async with asyncio.timeout(20):
            while (await js.stream_info(subjects.DEAD_LETTERS_STREAM)).state.messages == 0:
                await asyncio.sleep(0.05)
        answer = await http.get("/v1/indicators", params=period, headers=auth("operator-token"))
        as_csv = await http.get(
            "/v1/indicators", params={**period, "format": "csv"}, headers=auth("operator-token")
        )
        refused = await http.get("/v1/indicators", params=period, headers=auth("counter-token"))
        backwards = await http.get(
            "/v1/indicators",
            params={"from": period["to"], "to": period["from"]},
            headers=auth("operator-token"),
        )
        too_long = await http.get(
            "/v1/indicators",
            params={"from": "2025-01-01T00:00:00Z", "to": "2026-06-01T00:00:00Z"},
            headers=auth("operator-token"),
        )
        not_a_date = await http.get(
            "/v1/indicators", params={**period, "from": "yesterday"}, headers=auth("operator-token")
        )
        letters = Counter(subject.rsplit(".", 1)[-1] for subject, _, _ in await dead_letters(js))

    with stack.reading() as ledger:
        ledger.catalog = procedures
        histories = [ledger.case_history(c) for c in cases]
        window = (datetime.fromisoformat(period["from"]), datetime.fromisoformat(period["to"]))
        report = ledger_indicators(ledger, *window)
        again = ledger_indicators(ledger, *window)
        earlier = ledger_indicators(
            ledger, started - timedelta(days=2), started - timedelta(days=1)
        )
    want = recomputed(histories)

    assert {(d.channel, d.day.isoformat()): d.attentions for d in report.channel_days} == dict(
        want["days"]
    )
    assert sum(d.attentions for d in report.channel_days) == len(cases)
    assert {p.procedure for p in report.procedures} == set(want["procs"])
    for p in report.procedures:
        w = want["procs"][p.procedure]
        assert (p.attentions, p.completed, p.rejected, p.open) == (
            w["n"], w["ends"]["CaseCompleted"], w["ends"]["CaseRejected"], 0,
        )  # fmt: skip
        assert p.mean_s == pytest.approx(sum(w["t"]) / len(w["t"]), abs=1e-5)
        assert p.p95_s == bucketed_percentile(w["t"], 95)
    assert {e.entity for e in report.entities} == set(want["ents"])
    for e in report.entities:
        w = want["ents"][e.entity]
        assert (e.attentions, e.completed, e.rejected, e.failed, e.retries) == (
            w["steps"], w["completed"], w["rejected"], w["failed"], w["retries"],
        ), e.entity  # fmt: skip
        assert e.dead_letters is None  # the ledger does not know them; the bus does
        assert e.oldest_open_since is None  # every case ended
    traffic: Counter[tuple[str, str]] = Counter()
    for d in report.step_days:
        traffic[(d.entity, d.outcome)] += d.steps
    for entity, w in want["ents"].items():
        assert sum(n for (e, _), n in traffic.items() if e == entity) == w["steps"], entity
        assert traffic[(entity, "completed")] == w["completed"], entity
    ranked = [(r.kind, r.entity, r.service, r.cases) for r in report.rejection_reasons]
    assert {(k, e, s): n for k, e, s, n in ranked} == dict(want["reasons"])
    assert [n for *_, n in ranked] == sorted((n for *_, n in ranked), reverse=True)
    # The scenario did what it says: a retried RENIEC step, RENIEC's refusal of 40000002.
    assert {e.entity: e.retries for e in report.entities}["reniec"] >= 1
    assert ("refused", "reniec", "duplicado-dni") in {(k, e, s) for k, e, s, _ in ranked}
    assert again == report
    assert report.savings_basis == "demo-assumption"
    assert {(s.channel, s.procedure) for s in report.savings} == set(want["saved"])
    for s in report.savings:
        w = want["saved"][(s.channel, s.procedure)]
        assert (s.cases, s.not_counted, s.documents, s.entities, s.trips) == (
            w["cases"], w["not_counted"], w["documents"], w["entities"], w["trips"],
        ), s  # fmt: skip
        assert s.hours == pytest.approx(w["hours"])
        assert s.soles == pytest.approx(w["soles"])
    transfer = next(s for s in report.savings if s.procedure == "transferencia-vehicular")
    # SAT's no-debt certificate and the bank's receipt, shared with SUNARP (its own ownership
    # certificate stays inside SUNARP: no document the citizen would have carried).
    assert (transfer.documents, transfer.entities) == (2, 2)
    refused_dni = next(s for s in report.savings if s.procedure == "duplicado-dni")
    assert refused_dni.not_counted == 1  # 40000002's case: rejected, so nothing counted
    assert (earlier.channel_days, earlier.entities, earlier.procedures) == ([], [], [])

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["from"] == period["from"].replace("+00:00", "Z")
    assert letters["sat"] >= 1
    got_letters = {e["entity"]: e["dead_letters"] for e in body["entities"]}
    assert got_letters == {e.entity: letters.get(e.entity, 0) for e in report.entities}
    assert body["ledger_dead_letters"] == letters.get("ledger", 0)
    assert body["channel_days"] == [d.model_dump(mode="json") for d in report.channel_days]
    assert body["rejection_reasons"] == [
        r.model_dump(mode="json") for r in report.rejection_reasons
    ]

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    sat = {
        r["measure"]: r["value"] for r in rows if r["section"] == "entity" and r["entity"] == "sat"
    }
    assert sat["dead_letters"] == str(letters["sat"])
    attentions = [int(r["value"]) for r in rows if r["section"] == "channel_day"]
    assert sum(attentions) == len(cases)

    for bad in (backwards, too_long, not_a_date):
        assert bad.status_code == 422, bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
