"""The operators' overview: for operator tokens only, a 503 while NATS is away."""

from pathlib import Path

import pytest

from schemas.views import BusOverview, EntityQueue, StreamLevel
from tests.fakes import Gateway, assert_problem, auth, gateway


@pytest.fixture
def gw(tmp_path: Path) -> Gateway:
    gw = gateway(tmp_path)
    gw.bus.bus_overview = BusOverview(
        entities=[EntityQueue(entity="reniec", waiting=12, in_hand=3, redelivered=1)],
        streams=[StreamLevel(stream="VENTANILLA_DEAD_LETTERS", messages=2)],
        dead_letters=2,
    )
    return gw


def test_an_operator_sees_each_entitys_queue_and_the_dead_letters(gw: Gateway) -> None:
    response = gw.client.get("/v1/operations/overview", headers=auth("operator-token"))

    assert response.status_code == 200, response.text
    assert response.json()["entities"] == [
        {"entity": "reniec", "waiting": 12, "in_hand": 3, "redelivered": 1}
    ]
    assert response.json()["dead_letters"] == 2


@pytest.mark.parametrize("token", ["counter-token", "auditor-token"])
def test_channels_and_auditors_may_not(gw: Gateway, token: str) -> None:
    problem = assert_problem(gw.client.get("/v1/operations/overview", headers=auth(token)), 403)
    assert "ops:read" in problem["detail"]


def test_nats_away_is_a_503(gw: Gateway) -> None:
    gw.bus.down = "nats"
    response = gw.client.get("/v1/operations/overview", headers=auth("operator-token"))
    assert_problem(response, 503)
