"""GET /v1/cases/{id} and its history: who may see a case, and what they see before the ledger."""

from uuid import UUID, uuid4

import pytest

from schemas.event_types import EventType
from tests.fakes import COUNTER, Gateway, assert_problem, auth, body


def submitted(gw: Gateway) -> UUID:
    response = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))
    assert response.status_code == 202
    return UUID(response.json()["case_id"])


@pytest.mark.parametrize("token", ["counter-token", "auditor-token"])
def test_the_owner_and_the_auditor_read_a_case_and_its_history(gw: Gateway, token: str) -> None:
    case_id = submitted(gw)
    gw.bus.record_completed(case_id)

    case = gw.client.get(f"/v1/cases/{case_id}", headers=auth(token))
    history = gw.client.get(
        f"/v1/cases/{case_id}/history?purpose=control+interno", headers=auth(token)
    )

    assert case.status_code == 200
    assert case.json()["status"] == "completed"
    assert case.json()["channel"] == COUNTER
    assert [(s["entity"], s["service"], s["status"]) for s in case.json()["steps"]] == [
        ("banco-nacion", "pago-tasa", "completed"),
        ("reniec", "duplicado-dni", "completed"),
    ]
    assert all(s["dispatched_at"] and s["finished_at"] for s in case.json()["steps"])
    assert history.status_code == 200
    assert [e["type"] for e in history.json()["events"]] == [EventType.CASE_SUBMITTED]


def test_another_channel_is_told_the_case_does_not_exist(gw: Gateway) -> None:
    case_id = submitted(gw)
    gw.bus.record_completed(case_id)
    never = uuid4()

    for path in (f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/history?purpose=control+interno"):
        other = gw.client.get(path, headers=auth("kiosk-token"))
        missing = gw.client.get(path.replace(str(case_id), str(never)), headers=auth("kiosk-token"))

        # Same answer as for a case that does not exist: ids of other channels don't leak.
        assert assert_problem(other, 404)["detail"] == assert_problem(missing, 404)["detail"]


def test_another_channel_cannot_see_a_case_still_being_recorded(gw: Gateway) -> None:
    case_id = submitted(gw)  # claimed, not yet recorded by the ledger

    assert_problem(gw.client.get(f"/v1/cases/{case_id}", headers=auth("kiosk-token")), 404)


def test_an_operator_may_not_read_cases(gw: Gateway) -> None:
    case_id = submitted(gw)

    for path in (f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/history?purpose=control+interno"):
        assert_problem(gw.client.get(path, headers=auth("operator-token")), 403)


def test_reading_needs_a_valid_token(gw: Gateway) -> None:
    case_id = submitted(gw)

    response = gw.client.get(f"/v1/cases/{case_id}")

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_right_after_202_the_case_reads_as_submitted_not_404(gw: Gateway) -> None:
    case_id = submitted(gw)

    case = gw.client.get(f"/v1/cases/{case_id}", headers=auth("counter-token"))
    history = gw.client.get(
        f"/v1/cases/{case_id}/history?purpose=control+interno", headers=auth("counter-token")
    )

    assert case.status_code == 200
    assert case.json()["status"] == "submitted"
    assert case.json()["steps"] == []
    assert history.status_code == 200
    assert history.json()["events"] == []


def test_an_unknown_case_is_404(gw: Gateway) -> None:
    assert_problem(gw.client.get(f"/v1/cases/{uuid4()}", headers=auth("auditor-token")), 404)


def test_a_case_id_that_is_not_a_uuid_is_explained(gw: Gateway) -> None:
    response = gw.client.get("/v1/cases/not-a-uuid", headers=auth("counter-token"))

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "path.case_id"
    assert "UUID" in problem["detail"]


def test_ledger_not_answering_is_503_with_retry_after(gw: Gateway) -> None:
    case_id = submitted(gw)
    gw.bus.down = "ledger"

    response = gw.client.get(f"/v1/cases/{case_id}", headers=auth("counter-token"))

    problem = assert_problem(response, 503)
    assert "ledger" in problem["detail"]
    assert int(response.headers["Retry-After"]) > 0


def test_only_auditors_replay_a_case_as_of_a_moment(gw: Gateway) -> None:
    case_id = submitted(gw)
    gw.bus.record_completed(case_id)
    path, why = f"/v1/cases/{case_id}/history", "control interno"

    owner = gw.client.get(path, params={"version": 1}, headers=auth("counter-token"))
    auditor = gw.client.get(
        path,
        params={"as_of": "2026-11-30T10:15:00Z", "purpose": why},
        headers=auth("auditor-token"),
    )
    bad = gw.client.get(path, params={"version": 0, "purpose": why}, headers=auth("auditor-token"))

    assert_problem(owner, 403)
    assert auditor.status_code == 200
    assert gw.bus.replays[-1][0] == case_id
    assert gw.bus.replays[-1][1] is not None
    assert gw.bus.replays[-1][1].isoformat() == "2026-11-30T10:15:00+00:00"
    assert bad.status_code == 422
