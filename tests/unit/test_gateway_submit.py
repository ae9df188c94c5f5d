"""POST /v1/cases: who may submit, what is accepted, and what the same key means twice."""

import json

import pytest
from structlog.testing import capture_logs

from schemas.cases import case_id_for, submit_msg_id
from tests.fakes import COUNTER, KIOSK, Gateway, assert_problem, auth, body


def test_a_channel_submits_a_case_and_gets_its_id_and_location(gw: Gateway) -> None:
    response = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "key-1"))

    assert response.status_code == 202
    case_id = case_id_for(COUNTER, "key-1")
    assert response.json() == {"case_id": str(case_id), "status": "submitted"}
    assert response.headers["Location"] == f"/v1/cases/{case_id}"
    [command] = gw.bus.published
    assert command.envelope.case_id == case_id
    assert command.envelope.actor.kind == "channel"
    assert command.envelope.actor.id == COUNTER
    assert command.procedure == "duplicado-dni"
    assert command.citizen.document_number == "40000001"
    assert command.inputs == {"reason": "perdida"}


def test_the_channel_comes_from_the_token_not_the_body(gw: Gateway) -> None:
    forged = {**body(), "channel": KIOSK}

    response = gw.client.post("/v1/cases", json=forged, headers=auth("counter-token", "k"))

    problem = assert_problem(response, 422)
    assert {"field": "channel", "message": problem["errors"][0]["message"]} in problem["errors"]
    assert "token" in problem["detail"]
    assert gw.bus.published == []


def test_same_key_and_same_body_give_the_same_case_and_one_command(gw: Gateway) -> None:
    first = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "again"))
    # The same request, spelled differently: other key order, other whitespace.
    reordered = {"inputs": {"reason": "perdida"}, "citizen": body()["citizen"]}
    respelled = json.dumps({**reordered, "procedure": "duplicado-dni"}, indent=2)
    second = gw.client.post(
        "/v1/cases",
        content=respelled,
        headers={**auth("counter-token", "again"), "Content-Type": "application/json"},
    )

    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    # Published twice with the same Nats-Msg-Id (repairs a crash between claim and publish);
    # the stream keeps one command.
    assert len(gw.bus.published) == 2
    assert {c.request_fingerprint for c in gw.bus.published} == {
        gw.bus.published[0].request_fingerprint
    }
    assert list(gw.bus.stream) == [submit_msg_id(case_id_for(COUNTER, "again"))]


def test_same_key_with_another_body_is_a_conflict(gw: Gateway) -> None:
    gw.client.post("/v1/cases", json=body(reason="perdida"), headers=auth("counter-token", "k"))

    response = gw.client.post(
        "/v1/cases", json=body(reason="robo"), headers=auth("counter-token", "k")
    )

    problem = assert_problem(response, 409)
    assert str(case_id_for(COUNTER, "k")) in problem["detail"]
    assert len(gw.bus.stream) == 1


def test_two_channels_using_the_same_key_open_two_cases(gw: Gateway) -> None:
    a = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "shared"))
    b = gw.client.post("/v1/cases", json=body(), headers=auth("kiosk-token", "shared"))

    assert a.status_code == b.status_code == 202
    assert a.json()["case_id"] != b.json()["case_id"]
    assert len(gw.bus.stream) == 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_no_bearer_token_is_401_with_a_challenge(gw: Gateway, headers: dict[str, str]) -> None:
    response = gw.client.post("/v1/cases", json=body(), headers={**headers, "Idempotency-Key": "k"})

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert gw.bus.published == []


def test_an_unknown_token_is_401_invalid_token(gw: Gateway) -> None:
    response = gw.client.post("/v1/cases", json=body(), headers=auth("stolen-or-made-up", "k"))

    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert gw.bus.published == []


@pytest.mark.parametrize("token", ["auditor-token", "operator-token"])
def test_only_channels_may_submit(gw: Gateway, token: str) -> None:
    response = gw.client.post("/v1/cases", json=body(), headers=auth(token, "k"))

    problem = assert_problem(response, 403)
    assert "channel" in problem["detail"]
    assert gw.bus.published == []


@pytest.mark.parametrize("dni", ["4000000", "400000011", "4000000A", "", "40 00001"])
def test_a_dni_without_exactly_8_digits_is_explained(gw: Gateway, dni: str) -> None:
    response = gw.client.post("/v1/cases", json=body(dni=dni), headers=auth("counter-token", "k"))

    problem = assert_problem(response, 422)
    rule = "The DNI number must have exactly 8 digits."
    assert problem["detail"] == rule
    assert problem["errors"] == [{"field": "citizen.document_number", "message": rule}]
    assert dni == "" or dni not in response.text  # the value is not echoed back
    assert gw.bus.published == []


def test_an_unknown_procedure_lists_the_known_ones(gw: Gateway) -> None:
    response = gw.client.post(
        "/v1/cases",
        json={**body(), "procedure": "licencia-de-conducir"},
        headers=auth("counter-token", "k"),
    )

    problem = assert_problem(response, 422)
    assert "licencia-de-conducir" in problem["detail"]
    assert "duplicado-dni" in problem["detail"]
    assert problem["errors"][0]["field"] == "procedure"


def test_inputs_are_checked_against_the_procedure(gw: Gateway) -> None:
    bad = {**body(), "inputs": {"reason": "aburrimiento", "color": "azul"}}

    response = gw.client.post("/v1/cases", json=bad, headers=auth("counter-token", "k"))

    problem = assert_problem(response, 422)
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert fields.keys() == {"inputs.reason", "inputs.color"}
    assert "perdida, robo, deterioro" in fields["inputs.reason"]
    assert problem["detail"].startswith("The request has 2 problems")


def test_every_problem_of_a_body_is_reported_at_once(gw: Gateway) -> None:
    bad = {"procedure": "duplicado-dni", "citizen": {"document_number": "123"}, "inputs": {}}

    response = gw.client.post("/v1/cases", json=bad, headers=auth("counter-token", "k"))

    problem = assert_problem(response, 422)
    assert {e["field"] for e in problem["errors"]} == {
        "citizen.document_type",
        "citizen.document_number",
        "inputs.reason",
    }


@pytest.mark.parametrize("raw", ['{"procedure": "duplicado-dni",', "not json", "[1, 2]", "null"])
def test_a_body_that_is_not_a_json_object_is_explained(gw: Gateway, raw: str) -> None:
    response = gw.client.post(
        "/v1/cases",
        content=raw,
        headers={**auth("counter-token", "k"), "Content-Type": "application/json"},
    )

    problem = assert_problem(response, 422)
    assert "JSON" in problem["detail"]
    assert gw.bus.published == []


@pytest.mark.parametrize("key", [None, "", "x" * 201, "clave\u00f1".encode("latin-1")])
def test_the_idempotency_key_is_required_and_printable(
    gw: Gateway, key: str | bytes | None
) -> None:
    headers: dict[str, str | bytes] = {"Authorization": "Bearer counter-token"}
    if key is not None:
        headers["Idempotency-Key"] = key

    response = gw.client.post("/v1/cases", json=body(), headers=headers)

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "header.idempotency-key"
    assert "Idempotency-Key" in problem["detail"]
    assert gw.bus.published == []


def test_a_key_of_200_printable_characters_is_accepted(gw: Gateway) -> None:
    key = "Ab0-_.:~ !" * 20

    response = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", key))

    assert response.status_code == 202
    assert response.json()["case_id"] == str(case_id_for(COUNTER, key))


def test_bus_down_is_503_with_retry_after(gw: Gateway) -> None:
    gw.bus.down = "nats"

    response = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))

    problem = assert_problem(response, 503)
    assert "NATS" in problem["detail"]
    assert int(response.headers["Retry-After"]) > 0


def test_no_document_number_reaches_the_logs(gw: Gateway) -> None:
    with capture_logs() as logs:
        ok = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))
        gw.client.post("/v1/cases", json=body(dni="4000000"), headers=auth("counter-token", "x"))

    request_lines = [e for e in logs if e["event"] == "request"]
    assert len(request_lines) == 2
    assert request_lines[0]["case_id"] == ok.json()["case_id"]
    assert request_lines[0]["channel"] == COUNTER
    assert request_lines[0]["status"] == 202
    assert "duration_ms" in request_lines[0]
    assert "4000000" not in repr(logs)
