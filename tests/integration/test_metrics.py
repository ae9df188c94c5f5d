"""The bus's Prometheus endpoint, scraped as Prometheus would, after real cases ran on a real
stack: its counts equal the cases that were run and what their histories say."""

import asyncio
from collections import Counter
from uuid import UUID

import httpx
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from prometheus_client.parser import text_string_to_metric_families

from schemas import subjects
from schemas.event_types import EventType
from services.case_ledger.store import LedgerStore
from services.entity_adapters.registry import entity_ids
from services.observability.exporter import serving_metrics
from services.stack.natsd import EmbeddedNats
from tests.factories import submit_command
from tests.integration.stack import local_stack, submit

pytestmark = pytest.mark.integration

TRANSFER = {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000}
CHANNEL = "mac-lima-norte"  # submit_command's default


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return found


def value(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    matches = [v for ls, v in found.get(name, []) if all(ls.get(k) == x for k, x in labels.items())]
    assert len(matches) == 1, (name, labels, found.get(name))
    return matches[0]


async def test_the_metrics_count_the_cases_that_ran(
    nc: Client, js: JetStreamContext, nats_server: EmbeddedNats, sqlite_store: LedgerStore
) -> None:
    async with local_stack(sqlite_store, nats_server.url) as stack:
        cases: list[UUID] = []
        for dni in ("40000001", "40000001", "40000002", "40000006"):
            cases.append(await submit(js, submit_command(dni)))
        cases.append(
            await submit(
                js, submit_command("40000001", procedure="transferencia-vehicular", inputs=TRANSFER)
            )
        )
        finals = [await stack.wait_final(c, within=60) for c in cases]
        # A request no adapter can read: SAT files it as a dead letter and goes on.
        await js.publish(
            subjects.work("sat", "certificado-no-adeudo"),
            b"not json",
            headers={"Nats-Msg-Id": "garbage-1"},
        )
        with stack.reading() as ledger:
            histories = [ledger.case_history(c) for c in cases]
            async with (
                serving_metrics(ledger, nc, "127.0.0.1", 0) as endpoint,
                asyncio.timeout(20),
                httpx.AsyncClient() as http,
            ):
                while True:  # heartbeats every 5 s, and the dead letter on its way
                    found = samples((await http.get(endpoint.url)).text)
                    up = {ls["process"] for ls, v in found.get("ventanilla_process_up", [])}
                    if {"ledger", *entity_ids()} <= up and found.get("ventanilla_dead_letters"):
                        break
                    await asyncio.sleep(0.5)

    assert finals == ["completed", "completed", "rejected", "completed", "completed"]
    dni = {"procedure": "duplicado-dni", "channel": CHANNEL}
    assert value(found, "ventanilla_cases_submitted_total", **dni) == 4
    assert value(found, "ventanilla_cases_completed_total", **dni) == 3
    assert value(found, "ventanilla_cases_rejected_total", **dni) == 1
    transfer = {"procedure": "transferencia-vehicular", "channel": CHANNEL}
    assert value(found, "ventanilla_cases_submitted_total", **transfer) == 1
    assert value(found, "ventanilla_cases_completed_total", **transfer) == 1
    assert value(found, "ventanilla_cases_rejected_total", **transfer) == 0

    # Steps and attempts, as the histories tell them.
    dispatched: Counter[tuple[str, str]] = Counter()
    answered: Counter[tuple[str, str, str]] = Counter()
    for history in histories:
        steps = {}
        for e in history.events:
            if e.type == EventType.STEP_DISPATCHED:
                dispatched[(e.data["entity"], e.data["service"])] += 1
                steps[e.data["step_id"]] = (e.data["entity"], e.data["service"])
            elif e.type in (EventType.STEP_COMPLETED, EventType.STEP_REJECTED):
                outcome = "completed" if e.type == EventType.STEP_COMPLETED else "rejected"
                answered[(*steps[e.data["step_id"]], outcome)] += 1
    for (entity, service), n in dispatched.items():
        labels = {"entity": entity, "service": service}
        assert value(found, "ventanilla_step_attempts_total", **labels) == n
        assert value(found, "ventanilla_step_retries_total", **labels) == 0
        assert value(found, "ventanilla_ans_breaches_total", **labels) == 0
    for (entity, service, outcome), n in answered.items():
        labels = {"entity": entity, "service": service, "outcome": outcome}
        assert value(found, "ventanilla_step_duration_seconds_count", **labels) == n
        assert value(found, "ventanilla_step_duration_seconds_bucket", le="+Inf", **labels) == n
    assert value(
        found, "ventanilla_step_duration_seconds_count",
        entity="reniec", service="duplicado-dni", outcome="rejected",
    ) == 1  # fmt: skip

    # The bus: nothing left waiting, the dead letter under who filed it, everyone alive.
    for entity in entity_ids():
        assert value(found, "ventanilla_consumer_lag_messages", entity=entity) == 0
        assert value(found, "ventanilla_consumer_oldest_pending_age_seconds", entity=entity) == 0
    assert value(found, "ventanilla_dead_letters", source="sat") == 1
    for process in ("ledger", *entity_ids()):
        assert value(found, "ventanilla_process_up", process=process) == 1
        assert value(found, "ventanilla_process_last_heartbeat_timestamp_seconds", process=process)
    assert value(found, "ventanilla_process_last_activity_timestamp_seconds", process="sat") > 0
