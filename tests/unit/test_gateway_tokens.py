"""Gateway tokens: issued once, kept as hashes, scoped, revocable, and rate limited per token."""

from pathlib import Path
from uuid import uuid4

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services.cli.main import app as cli
from services.credentials import Principal, issue_dev_credentials, load_token_records
from services.datadir import DataDir
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.rate_limits import RateLimiter
from services.tokens import issue_token, revoke_token
from tests.fakes import COUNTER, FakeCaseBus, assert_problem, auth, body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(tokens: Path, limiter: RateLimiter | None = None) -> TestClient:
    app = create_app(FakeCaseBus(), TokenBook(tokens), rate_limiter=limiter)
    return TestClient(app, raise_server_exceptions=False)


def test_an_issued_token_is_kept_only_as_a_hash_and_works_at_once(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    gw = client(tokens)
    token_id, token = issue_token(tokens, Principal(kind="channel", id=COUNTER))

    assert token not in tokens.read_text()
    assert token_id in tokens.read_text()
    assert gw.post("/v1/cases", json=body(), headers=auth(token, "k1")).status_code == 202


def test_a_token_without_the_scope_is_refused_with_a_problem(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    gw = client(tokens)
    submit_only = Principal(kind="channel", id=COUNTER, scopes=frozenset({"cases:submit"}))
    _, token = issue_token(tokens, submit_only)

    submitted = gw.post("/v1/cases", json=body(), headers=auth(token, "k2"))
    case_id = submitted.json()["case_id"]
    problem = assert_problem(gw.get(f"/v1/cases/{case_id}", headers=auth(token)), 403)
    assert "cases:read" in problem["detail"]

    _, reader = issue_token(
        tokens, Principal(kind="channel", id=COUNTER, scopes=frozenset({"cases:read"}))
    )
    assert_problem(gw.post("/v1/cases", json=body(), headers=auth(reader, "k3")), 403)


def test_a_revoked_token_is_refused_on_its_next_request(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    gw = client(tokens)
    token_id, token = issue_token(tokens, Principal(kind="auditor", id="sgp"))
    assert gw.get(f"/v1/cases/{uuid4()}", headers=auth(token)).status_code == 404

    assert revoke_token(tokens, token_id)
    assert not revoke_token(tokens, token_id)

    assert_problem(gw.get(f"/v1/cases/{uuid4()}", headers=auth(token)), 401)


def test_a_token_over_its_rate_gets_429_with_retry_after_and_others_are_not_slowed(
    tmp_path: Path,
) -> None:
    tokens, clock = tmp_path / "tokens.json", Clock()
    gw = client(tokens, RateLimiter(clock))
    _, slow = issue_token(tokens, Principal(kind="auditor", id="a"), rate_per_minute=2)
    _, other = issue_token(tokens, Principal(kind="auditor", id="b"), rate_per_minute=2)
    case = f"/v1/cases/{uuid4()}"

    assert [gw.get(case, headers=auth(slow)).status_code for _ in range(2)] == [404, 404]
    refused = gw.get(case, headers=auth(slow))

    problem = assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) == 30
    assert "2 requests a minute" in problem["detail"]
    assert gw.get(case, headers=auth(other)).status_code == 404
    clock.now += 30
    assert gw.get(case, headers=auth(slow)).status_code == 404


def test_the_cli_issues_and_revokes_and_up_keeps_issued_tokens(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "var")
    runner = CliRunner()
    issued = runner.invoke(
        cli,
        [
            "token",
            "issue",
            "--channel",
            COUNTER,
            "--scope",
            "cases:submit",
            "--data-dir",
            str(data.root),
        ],
    )
    assert issued.exit_code == 0, issued.output
    token_id = issued.output.split("token id")[1].split()[0]
    [record] = load_token_records(data.gateway_tokens)
    assert record.token_id == token_id
    assert record.principal.scopes == frozenset({"cases:submit"})

    issue_dev_credentials(data.gateway_tokens, data.dev_credentials, "http://gw", "nats://n")
    assert token_id in {r.token_id for r in load_token_records(data.gateway_tokens)}

    revoked = runner.invoke(cli, ["token", "revoke", token_id, "--data-dir", str(data.root)])
    assert revoked.exit_code == 0, revoked.output
    assert token_id not in {r.token_id for r in load_token_records(data.gateway_tokens)}
    unknown = runner.invoke(cli, ["token", "revoke", token_id, "--data-dir", str(data.root)])
    assert unknown.exit_code == 1
    bad_scope = runner.invoke(
        cli,
        ["token", "issue", "--channel", COUNTER, "--scope", "root", "--data-dir", str(data.root)],
    )
    assert bad_scope.exit_code != 0
