"""POST /v1/cases reads a body one way only: ASCII identifiers, and each JSON key once."""

import json

import httpx
import pytest

from tests.fakes import Gateway, assert_problem, auth, body

JSON = {"Content-Type": "application/json"}


def post_raw(gw: Gateway, raw: str, key: str = "k") -> httpx.Response:
    return gw.client.post(
        "/v1/cases", content=raw.encode(), headers={**auth("counter-token", key), **JSON}
    )


@pytest.mark.parametrize("dni", ["٤٠٠٠٠٠٠١", "४००००००१", "４００００００１", "4OOOOOO1"])
def test_a_dni_in_other_digits_is_refused_not_accepted(gw: Gateway, dni: str) -> None:
    response = gw.client.post("/v1/cases", json=body(dni=dni), headers=auth("counter-token", "k"))

    problem = assert_problem(response, 422)
    rule = "The DNI number must have exactly 8 digits."
    assert problem["errors"] == [{"field": "citizen.document_number", "message": rule}]
    assert gw.bus.published == []


def test_a_transfer_with_a_seller_dni_or_plate_in_other_scripts_is_refused(gw: Gateway) -> None:
    transfer = {
        "procedure": "transferencia-vehicular",
        "citizen": {"document_type": "DNI", "document_number": "40000001"},
        "inputs": {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000},
    }
    spoofed = {"plate": "АВС-123", "seller_dni": "٤٠٠٠٠٠٠٧", "price_pen": 25000}  # Cyrillic АВС

    response = gw.client.post(
        "/v1/cases", json={**transfer, "inputs": spoofed}, headers=auth("counter-token", "t")
    )

    problem = assert_problem(response, 422)
    assert {e["field"] for e in problem["errors"]} == {"inputs.plate", "inputs.seller_dni"}
    assert gw.bus.published == []
    accepted = gw.client.post("/v1/cases", json=transfer, headers=auth("counter-token", "t2"))
    assert accepted.status_code == 202, accepted.text


def test_a_repeated_procedure_key_is_refused_not_read_as_the_last(gw: Gateway) -> None:
    raw = (
        '{"procedure": "pasaporte-electronico", "procedure": "duplicado-dni", '
        '"citizen": {"document_type": "DNI", "document_number": "40000001"}, '
        '"inputs": {"reason": "perdida"}}'
    )

    problem = assert_problem(post_raw(gw, raw), 422)

    assert problem["errors"] == [
        {
            "field": "procedure",
            "message": "The procedure is given twice in the request body: send each field once.",
        }
    ]
    assert problem["detail"] == problem["errors"][0]["message"]
    assert gw.bus.published == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (
            '{"procedure": "duplicado-dni", "citizen": {"document_type": "DNI", '
            '"document_number": "40000001", "document_number": "40000002"}, '
            '"inputs": {"reason": "perdida"}}',
            "citizen.document_number",
        ),
        (
            '{"procedure": "duplicado-dni", "citizen": {"document_type": "DNI", '
            '"document_number": "40000001"}, "inputs": {"reason": "robo", "reason": "perdida"}}',
            "inputs.reason",
        ),
    ],
)
def test_a_repeated_key_inside_the_body_is_named_where_it_stands(
    gw: Gateway, raw: str, field: str
) -> None:
    problem = assert_problem(post_raw(gw, raw), 422)

    assert [e["field"] for e in problem["errors"]] == [field]
    assert "40000002" not in json.dumps(problem)  # values are never echoed back
    assert gw.bus.published == []


@pytest.mark.parametrize("depth", [990, 30_000])
def test_a_body_nested_too_deep_to_check_is_a_client_error_not_a_crash(
    gw: Gateway, depth: int
) -> None:
    response = post_raw(gw, "[" * depth + "]" * depth)

    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)
    assert gw.bus.published == []


def test_a_repeat_deep_inside_a_long_body_is_found(gw: Gateway) -> None:
    nested = '{"a": ' * 200 + '{"b": 1, "b": 2}' + "}" * 200
    raw = json.dumps(body())[:-1] + f', "extra": {nested}}}'

    problem = assert_problem(post_raw(gw, raw), 422)

    assert [e["field"] for e in problem["errors"]] == ["extra" + ".a" * 200 + ".b"]
