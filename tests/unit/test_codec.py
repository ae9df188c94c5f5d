"""Bytes from the bus become typed messages, or a reason that names no personal data."""

import json

import pytest

from schemas.messages import SubmitCase
from services.bus.codec import decode
from services.errors import Unprocessable
from tests.factories import submit_command


def test_a_valid_message_round_trips() -> None:
    command = submit_command("40000001")

    assert decode(SubmitCase, command.model_dump_json().encode()) == command


def test_malformed_json_is_named_as_such() -> None:
    with pytest.raises(Unprocessable, match=r"^malformed JSON$"):
        decode(SubmitCase, b'{"envelope": ')


def test_the_reason_names_the_field_but_not_its_value() -> None:
    raw = submit_command("40000001").model_dump(mode="json")
    raw["citizen"]["document_number"] = "4000000X"

    with pytest.raises(Unprocessable) as refused:
        decode(SubmitCase, json.dumps(raw).encode())

    assert "citizen.document_number" in str(refused.value)
    assert "4000000X" not in str(refused.value)


def test_an_unknown_schema_version_is_refused() -> None:
    raw = submit_command("40000001").model_dump(mode="json")
    raw["envelope"]["schema_version"] = 2

    with pytest.raises(Unprocessable, match="schema_version"):
        decode(SubmitCase, json.dumps(raw).encode())
