"""What every client of the gateway relies on beyond cases: probes, catalog, limits, errors,
tokens that change on disk, and an OpenAPI document that describes it all."""

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from schemas.procedures import catalog
from services.credentials import Principal
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.limits import MAX_BODY_BYTES
from tests.fakes import (
    FakeCaseBus,
    Gateway,
    assert_problem,
    auth,
    body,
    write_tokens,
)


def test_healthz_answers_while_the_bus_is_down(gw: Gateway) -> None:
    gw.bus.down = "nats"

    response = gw.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_when_nats_and_the_ledger_answer(gw: Gateway) -> None:
    assert gw.client.get("/readyz").json() == {"status": "ok"}


@pytest.mark.parametrize(("down", "named"), [("nats", "NATS"), ("ledger", "ledger")])
def test_readyz_is_503_naming_the_dependency_that_is_down(
    gw: Gateway, down: Any, named: str
) -> None:
    gw.bus.down = down

    problem = assert_problem(gw.client.get("/readyz"), 503)

    assert named in problem["detail"]


def test_the_procedure_catalog_is_public_and_describes_inputs(gw: Gateway) -> None:
    response = gw.client.get("/v1/procedures")

    assert response.status_code == 200
    procedures = {p["code"]: p for p in response.json()}
    assert set(procedures) == {
        "duplicado-dni",
        "pasaporte-electronico",
        "transferencia-vehicular",
        "inscripcion-ruc",
    }
    transfer = procedures["transferencia-vehicular"]["inputs_schema"]
    assert set(transfer["required"]) == {"plate", "seller_dni", "price_pen"}
    proc = procedures["duplicado-dni"]
    assert proc["fee"] == {"amount": "23.40", "currency": "PEN"}
    assert [(s["entity"], s["service"], s["after"]) for s in proc["steps"]] == [
        ("banco-nacion", "pago-tasa", []),
        ("reniec", "duplicado-dni", ["pago-tasa"]),
    ]
    reason = proc["inputs_schema"]["properties"]["reason"]
    assert set(reason["enum"]) == {"perdida", "robo", "deterioro"}
    assert proc["inputs_schema"]["required"] == ["reason"]


def test_a_body_over_the_limit_is_413_by_its_declared_length(gw: Gateway) -> None:
    padded = {**body(), "inputs": {"reason": "perdida", "note": "x" * MAX_BODY_BYTES}}

    response = gw.client.post("/v1/cases", json=padded, headers=auth("counter-token", "k"))

    assert_problem(response, 413)
    assert gw.bus.published == []


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    write_tokens(tokens, {"t": Principal(kind="channel", id="c")})
    bus = FakeCaseBus()
    app = create_app(bus, TokenBook(tokens), max_body_bytes=1000)
    chunks_read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal chunks_read
        chunks_read += 1  # an endless chunked body of 100-byte chunks, no Content-Length
        return {"type": "http.request", "body": b" " * 100, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/cases",
        "raw_path": b"/v1/cases",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", b"Bearer t"),
            (b"idempotency-key", b"k"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]

    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert chunks_read == 11  # stopped reading right after passing 1000 bytes
    assert bus.published == []


def test_an_unknown_path_and_a_wrong_method_are_problems(gw: Gateway) -> None:
    missing = gw.client.get("/v1/nothing-here")
    wrong = gw.client.delete("/v1/procedures")

    assert assert_problem(missing, 404)["type"] == "about:blank"
    assert assert_problem(wrong, 405)["type"] == "about:blank"
    assert "GET" in wrong.headers["Allow"]


def test_an_unexpected_error_is_a_500_that_reveals_nothing(gw: Gateway) -> None:
    gw.bus.fail_with = RuntimeError("boom: citizen 40000001 in table ledger_events")

    with capture_logs() as logs:
        response = gw.client.post("/v1/cases", json=body(), headers=auth("counter-token", "k"))

    problem = assert_problem(response, 500)
    assert "40000001" not in response.text
    assert "RuntimeError" not in response.text
    assert "ledger_events" not in response.text
    [error] = [e for e in logs if e["event"] == "unhandled error"]
    assert error["error"] == "RuntimeError"
    assert "40000001" not in repr(logs)
    assert problem["title"] == "Internal server error"


def test_tokens_reissued_on_disk_are_picked_up_without_a_restart(gw: Gateway) -> None:
    assert gw.client.get("/v1/cases/x", headers=auth("counter-token")).status_code == 422
    write_tokens(gw.tokens_file, {"fresh-token": Principal(kind="auditor", id="auditor")})
    later = os.stat(gw.tokens_file).st_mtime_ns + 1_000_000_000
    os.utime(gw.tokens_file, ns=(later, later))

    revoked = gw.client.get("/v1/cases/x", headers=auth("counter-token"))
    fresh = gw.client.get("/v1/cases/x", headers=auth("fresh-token"))

    assert_problem(revoked, 401)
    assert fresh.status_code == 422  # authenticated; only the id is wrong


def test_a_half_written_token_file_keeps_the_previous_tokens(gw: Gateway) -> None:
    assert gw.client.get("/v1/cases/x", headers=auth("counter-token")).status_code == 422
    gw.tokens_file.write_text('{"tokens": [{"sha256": ')

    response = gw.client.get("/v1/cases/x", headers=auth("counter-token"))

    assert response.status_code == 422  # still authenticated


def test_openapi_documents_every_route_and_its_problems(gw: Gateway) -> None:
    document = gw.client.get("/openapi.json").json()

    assert document["info"]["title"] == "Ventanilla gateway"
    assert document["info"]["version"]
    assert "problem" in document["info"]["description"]
    paths = document["paths"]
    assert {p: set(ops) for p, ops in paths.items()} == {
        "/v1/cases": {"post"},
        "/v1/cases/{case_id}": {"get"},
        "/v1/cases/{case_id}/history": {"get"},
        "/v1/citizens/{document_number}/access-log": {"get"},
        "/v1/operations/overview": {"get"},
        "/v1/sla": {"get"},
        "/v1/indicators": {"get"},
        "/v1/procedures": {"get"},
        "/healthz": {"get"},
        "/readyz": {"get"},
        "/.well-known/ventanilla/checkpoint-keys.json": {"get"},
    }
    submit = paths["/v1/cases"]["post"]
    assert set(submit["responses"]) == {"202", "401", "403", "409", "413", "422", "429", "503"}
    problem_ref = submit["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert problem_ref == {"$ref": "#/components/schemas/Problem"}
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    assert "Idempotency-Key" in {p["name"] for p in submit["parameters"]}
    assert set(paths["/v1/cases/{case_id}"]["get"]["responses"]) >= {"200", "401", "403", "404"}
    assert set(paths["/v1/sla"]["get"]["responses"]) >= {"200", "401", "403", "422", "503"}
    indicators = paths["/v1/indicators"]["get"]["responses"]
    assert set(indicators) >= {"200", "401", "403", "422", "503"}
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_procedure_schema_carries_examples_its_inputs_model_accepts(gw: Gateway) -> None:
    served = {p["code"]: p["inputs_schema"] for p in gw.client.get("/v1/procedures").json()}

    assert set(served) == set(catalog())
    for code, schema in served.items():
        assert schema["examples"], code
        for example in schema["examples"]:
            catalog()[code].inputs.model_validate(example)  # raises when the example is wrong
