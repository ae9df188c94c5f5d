"""Reads of personal data through the gateway: auditors give a purpose, and every read,
refused ones included, goes to the ledger to be recorded with who, why and the request id."""

from pathlib import Path
from uuid import UUID

import pytest

from tests.fakes import COUNTER, KIOSK, Gateway, assert_problem, auth, body, gateway

DNI = "40000007"


@pytest.fixture
def gw(tmp_path: Path) -> Gateway:
    return gateway(tmp_path)


def recorded_case(gw: Gateway) -> UUID:
    response = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))
    assert response.status_code == 202
    case_id = UUID(response.json()["case_id"])
    gw.bus.record_completed(case_id)
    return case_id


@pytest.mark.parametrize("path", ["/v1/cases/{case}/history", "/v1/citizens/40000007/access-log"])
def test_an_auditor_without_a_purpose_gets_a_clear_422(gw: Gateway, path: str) -> None:
    case_id = recorded_case(gw)
    response = gw.client.get(path.format(case=case_id), headers=auth("auditor-token"))
    problem = assert_problem(response, 422)
    assert "purpose" in problem["detail"]
    assert problem["errors"] == [{"field": "purpose", "message": "required of auditors"}]
    assert gw.bus.reads == []  # nothing was read


def test_an_auditors_history_and_replay_are_sent_with_who_why_and_the_request_id(
    gw: Gateway,
) -> None:
    case_id = recorded_case(gw)
    headers = {**auth("auditor-token"), "X-Request-Id": "req-42"}
    why = "Control interno: reclamo 117"
    for params in ({"purpose": why}, {"purpose": why, "version": 1}):
        response = gw.client.get(f"/v1/cases/{case_id}/history", params=params, headers=headers)
        assert response.status_code == 200, response.text
    assert [
        (r.reader_kind, r.reader_id, r.purpose, r.request_id, r.refused) for r in gw.bus.reads
    ] == [("auditor", "auditor", why, "req-42", False)] * 2


def test_a_refused_read_is_recorded_too(gw: Gateway) -> None:
    case_id = recorded_case(gw)
    replay = gw.client.get(
        f"/v1/cases/{case_id}/history", params={"version": 1}, headers=auth("counter-token")
    )
    assert_problem(replay, 403)
    other = gw.client.get(f"/v1/cases/{case_id}/history", headers=auth("kiosk-token"))
    assert_problem(other, 404)
    # The replay is refused here; another channel's read is sent as it is, and the ledger,
    # which knows the case's channel, records it as refused (tests/integration/test_gateway.py).
    sent = [(r.reader_id, r.refused) for r in gw.bus.reads]
    assert sent == [(COUNTER, True), (KIOSK, False)]


def test_the_access_log_read_is_sent_to_be_recorded(gw: Gateway) -> None:
    response = gw.client.get(
        f"/v1/citizens/{DNI}/access-log",
        params={"purpose": "Pedido del ciudadano"},
        headers=auth("auditor-token"),
    )
    assert response.status_code == 200, response.text
    [read] = gw.bus.reads
    assert (read.reader_kind, read.purpose, read.refused) == (
        "auditor",
        "Pedido del ciudadano",
        False,
    )
    assert read.request_id  # the trace id when the caller sent none
