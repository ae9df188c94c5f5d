"""A citizen's access log over HTTP: auditors only, and the DNI in the path is never logged."""

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from structlog.testing import capture_logs

from schemas.views import CitizenAccessLog, DataAccess
from tests.fakes import Gateway, assert_problem, auth, gateway

DNI = "40000007"


@pytest.fixture
def gw(tmp_path: Path) -> Gateway:
    gw = gateway(tmp_path)
    gw.bus.access_logs[DNI] = CitizenAccessLog(
        entries=[
            DataAccess(
                case_id=uuid4(),
                procedure="transferencia-vehicular",
                role="seller_dni",
                occurred_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
                from_entity="sat",
                from_step="no-adeudo",
                to_entity="sunarp",
                to_step="inscripcion",
                fields=["certificate_number"],
                purpose="No pending vehicle tax, required to register a transfer",
                legal_basis="DL 1211",
            )
        ]
    )
    return gw


def test_an_auditor_reads_who_used_a_citizens_data(gw: Gateway) -> None:
    response = gw.client.get(
        f"/v1/citizens/{DNI}/access-log?purpose=control+interno", headers=auth("auditor-token")
    )

    assert response.status_code == 200, response.text
    [entry] = response.json()["entries"]
    assert (entry["from_entity"], entry["to_entity"]) == ("sat", "sunarp")
    assert entry["legal_basis"] == "DL 1211"
    assert entry["role"] == "seller_dni"


@pytest.mark.parametrize("token", ["counter-token", "operator-token"])
def test_channels_and_operators_may_not_read_it(gw: Gateway, token: str) -> None:
    response = gw.client.get(
        f"/v1/citizens/{DNI}/access-log?purpose=control+interno", headers=auth(token)
    )

    problem = assert_problem(response, 403)
    assert "audit:read" in problem["detail"]


def test_a_malformed_dni_is_422(gw: Gateway) -> None:
    response = gw.client.get(
        "/v1/citizens/4000/access-log?purpose=control+interno", headers=auth("auditor-token")
    )

    assert_problem(response, 422)


def test_the_dni_in_the_path_stays_out_of_the_logs(gw: Gateway) -> None:
    with capture_logs() as logs:
        gw.client.get(
            f"/v1/citizens/{DNI}/access-log?purpose=control+interno", headers=auth("auditor-token")
        )
        gw.client.get(f"/v1/citizens/{DNI}/nowhere", headers=auth("auditor-token"))

    assert DNI not in repr(logs)
    routes = [e["route"] for e in logs if e["event"] == "request"]
    assert routes == ["/v1/citizens/{document_number}/access-log", "(no route)"]
