"""`ventanilla case submit`: inputs, credentials and the gateway's answers; no network."""

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from services.cli.case import parse_inputs
from services.cli.failures import CliError
from services.cli.gateway_client import Submission, channel_token, load_credentials, submit
from services.cli.main import app
from services.credentials import DevCredentials, issue_dev_credentials
from services.datadir import DataDir
from services.stack.ports import free_port

runner = CliRunner(env={"COLUMNS": "200"})

SUBMIT = ["case", "submit", "--procedure", "duplicado-dni", "--dni", "40000001"]
SUBMISSION = Submission("duplicado-dni", "40000001", {"reason": "perdida"}, "key-1")


def test_inputs_are_key_value_pairs() -> None:
    assert parse_inputs(["reason=perdida", "note=a=b", " x =  "]) == {
        "reason": "perdida",
        "note": "a=b",
        "x": "  ",
    }
    assert parse_inputs([]) == {}


@pytest.mark.parametrize("bad", ["reason", "=perdida", ""])
def test_an_input_without_a_key_is_refused(bad: str) -> None:
    with pytest.raises(CliError, match="is not KEY=VALUE"):
        parse_inputs([bad])


def test_submit_posts_the_case_as_the_channel(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"case_id": "c-1", "status": "submitted"})

    with httpx.Client(base_url="http://gw", transport=httpx.MockTransport(gateway)) as client:
        accepted = submit(client, "tok", SUBMISSION)
    assert (accepted.case_id, accepted.status) == ("c-1", "submitted")
    [request] = seen
    assert request.url.path == "/v1/cases"
    assert request.headers["Authorization"] == "Bearer tok"
    assert request.headers["Idempotency-Key"] == "key-1"
    assert json.loads(request.content) == {
        "procedure": "duplicado-dni",
        "citizen": {"document_type": "DNI", "document_number": "40000001"},
        "inputs": {"reason": "perdida"},
    }


def test_a_sites_receipt_is_kept_and_the_hubs_answer_has_none() -> None:
    answers = iter(
        [
            {"case_id": "c-1", "status": "submitted", "receipt": "pendiente de envío"},
            {"case_id": "c-2", "status": "submitted", "receipt": None},
        ]
    )

    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(202, json=next(answers))

    with httpx.Client(base_url="http://gw", transport=httpx.MockTransport(gateway)) as client:
        at_site, at_hub = submit(client, "tok", SUBMISSION), submit(client, "tok", SUBMISSION)
    assert (at_site.case_id, at_site.receipt) == ("c-1", "pendiente de envío")
    assert (at_hub.case_id, at_hub.receipt) == ("c-2", None)


def test_a_problem_document_becomes_its_title_and_detail() -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422,
            json={"type": "about:blank", "title": "Invalid DNI", "detail": "8 digits, please"},
            headers={"Content-Type": "application/problem+json"},
        )

    with (
        httpx.Client(base_url="http://gw", transport=httpx.MockTransport(gateway)) as client,
        pytest.raises(CliError) as failure,
    ):
        submit(client, "tok", SUBMISSION)
    assert failure.value.message == "422 Invalid DNI"
    assert failure.value.detail == "8 digits, please"


def test_a_non_json_error_still_says_what_happened() -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    with (
        httpx.Client(base_url="http://gw", transport=httpx.MockTransport(gateway)) as client,
        pytest.raises(CliError, match="502 Bad Gateway"),
    ):
        submit(client, "tok", SUBMISSION)


def test_channels_come_from_the_credentials_file(tmp_path: Path) -> None:
    d = DataDir(tmp_path)
    issued = issue_dev_credentials(d.gateway_tokens, d.dev_credentials, "http://gw", "nats://n")
    credentials = load_credentials(d.dev_credentials)
    assert credentials == issued
    first = next(iter(issued.channels))
    assert channel_token(credentials, None) == (first, issued.channels[first])
    with pytest.raises(CliError, match="unknown channel"):
        channel_token(credentials, "mac-nowhere")


def test_submit_without_a_running_stack_says_how_to_start_one(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [*SUBMIT, "--input", "reason=perdida", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert "no credentials" in result.output
    assert "ventanilla up" in result.output
    assert "Traceback" not in result.output


def test_submit_when_the_gateway_is_down_is_a_clear_message(tmp_path: Path) -> None:
    d = DataDir(tmp_path)
    closed = f"http://127.0.0.1:{free_port('127.0.0.1')}"  # nothing listens there
    d.dev_credentials.write_text(
        DevCredentials(
            gateway_url=closed, nats_url="nats://x", channels={"c": "t"}, auditor="a", operator="o"
        ).model_dump_json()
    )
    result = runner.invoke(
        app,
        [*SUBMIT, "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert "not reachable" in result.output
    assert "Traceback" not in result.output
