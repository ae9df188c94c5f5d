"""GET /v1/cases/{id}/events: who may follow a case, and what the stream says."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from schemas.views import CaseView
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from tests.fakes import TOKENS, FakeCaseBus, assert_problem, auth, body, write_tokens


@dataclass
class FakeStatusFeed:
    """The views a case goes through, in the order the ledger writes them."""

    changes: dict[UUID, list[CaseView]] = field(default_factory=dict)

    async def current(self, case_id: UUID) -> CaseView | None:
        views = self.changes.get(case_id)
        return views[-1] if views else None

    async def updates(self, case_id: UUID) -> AsyncIterator[CaseView]:
        for view in self.changes.get(case_id, []):
            yield view
            if view.status in ("completed", "rejected"):
                return


@dataclass
class Following:
    bus: FakeCaseBus
    feed: FakeStatusFeed
    client: TestClient


@pytest.fixture
def gw(tmp_path: Path) -> Following:
    tokens = tmp_path / "tokens.json"
    write_tokens(tokens, TOKENS)
    bus, feed = FakeCaseBus(), FakeStatusFeed()
    app = create_app(bus, TokenBook(tokens), status_feed=feed)
    return Following(bus, feed, TestClient(app, raise_server_exceptions=False))


def submitted(gw: Following) -> UUID:
    response = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))
    return UUID(response.json()["case_id"])


def events(text: str) -> list[dict[str, Any]]:
    """Each event's fields as an EventSource reads them (comments and `retry` aside)."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and line[0] != ":")
        if "event" in fields:
            found.append(fields)
    return found


def test_a_case_streams_its_changes_with_versions_as_ids_and_ends_with_it(gw: Following) -> None:
    case_id = submitted(gw)
    done = gw.bus.record_completed(case_id)
    in_progress = done.model_copy(update={"status": "in_progress", "version": 3})
    stale = done.model_copy(update={"status": "in_progress", "version": 2})
    gw.bus.recorded[case_id] = in_progress
    gw.feed.changes[case_id] = [in_progress, stale, done]

    response = gw.client.get(f"/v1/cases/{case_id}/events", headers=auth("counter-token"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    got = events(response.text)
    assert [(e["id"], e["event"]) for e in got] == [("3", "case"), ("5", "case")]
    assert [CaseView.model_validate_json(e["data"]) for e in got] == [in_progress, done]


def test_a_claimed_case_starts_with_submitted_at_version_0(gw: Following) -> None:
    case_id = submitted(gw)
    done = gw.bus.record_completed(case_id)
    del gw.bus.recorded[case_id]  # the ledger has not written it yet
    gw.feed.changes[case_id] = [done]

    response = gw.client.get(f"/v1/cases/{case_id}/events", headers=auth("counter-token"))

    got = events(response.text)
    assert [e["id"] for e in got] == ["0", "5"]
    assert CaseView.model_validate_json(got[0]["data"]).status == "submitted"


def test_a_reconnect_gets_the_current_state_first_and_204_once_it_saw_the_end(
    gw: Following,
) -> None:
    case_id = submitted(gw)
    done = gw.bus.record_completed(case_id)
    url = f"/v1/cases/{case_id}/events"

    older = gw.client.get(url, headers={**auth("counter-token"), "Last-Event-ID": "3"})
    garbage = gw.client.get(url, headers={**auth("counter-token"), "Last-Event-ID": "x"})
    seen_end = gw.client.get(url, headers={**auth("counter-token"), "Last-Event-ID": "5"})

    assert [e["id"] for e in events(older.text)] == [str(done.version)]
    assert [e["id"] for e in events(garbage.text)] == [str(done.version)]
    assert seen_end.status_code == 204


def test_only_the_owner_and_auditors_may_follow_a_case(gw: Following) -> None:
    case_id = submitted(gw)
    gw.bus.record_completed(case_id)
    url = f"/v1/cases/{case_id}/events"

    assert gw.client.get(url, headers=auth("auditor-token")).status_code == 200
    assert_problem(gw.client.get(url, headers=auth("kiosk-token")), 404)
    assert_problem(gw.client.get(url, headers=auth("operator-token")), 403)
    assert_problem(gw.client.get(url), 401)
    unknown = "/v1/cases/00000000-0000-0000-0000-000000000000/events"
    assert_problem(gw.client.get(unknown, headers=auth("auditor-token")), 404)


def test_a_bus_that_does_not_answer_is_a_503_before_the_stream_starts(gw: Following) -> None:
    case_id = submitted(gw)
    gw.bus.down = "nats"
    response = gw.client.get(f"/v1/cases/{case_id}/events", headers=auth("counter-token"))
    assert_problem(response, 503)
