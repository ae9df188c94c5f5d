"""Demo credentials of a local stack: plain tokens to the user once, hashes to the gateway."""

import json
import stat
from pathlib import Path

from services.credentials import (
    DEMO_CHANNELS,
    hash_token,
    issue_dev_credentials,
    load_tokens,
)


def issue(tmp_path: Path, gateway_url: str = "http://127.0.0.1:8000"):  # type: ignore[no-untyped-def]
    return issue_dev_credentials(
        tmp_path / "gateway" / "tokens.json",
        tmp_path / "dev-credentials.json",
        gateway_url,
        "nats://127.0.0.1:4222",
    )


def test_each_token_maps_to_its_principal_and_only_hashes_are_kept(tmp_path: Path) -> None:
    credentials = issue(tmp_path)
    tokens = load_tokens(tmp_path / "gateway" / "tokens.json")

    assert set(credentials.channels) == set(DEMO_CHANNELS)
    for channel, token in credentials.channels.items():
        principal = tokens[hash_token(token)]
        assert (principal.kind, principal.id) == ("channel", channel)
    assert tokens[hash_token(credentials.auditor)].kind == "auditor"
    assert tokens[hash_token(credentials.operator)].kind == "operator"
    stored = (tmp_path / "gateway" / "tokens.json").read_text()
    assert credentials.auditor not in stored
    assert all(token not in stored for token in credentials.channels.values())


def test_the_credentials_file_has_the_documented_shape_and_is_private(tmp_path: Path) -> None:
    issue(tmp_path)
    path = tmp_path / "dev-credentials.json"

    document = json.loads(path.read_text())
    assert set(document) == {
        "gateway_url",
        "nats_url",
        "channels",
        "auditor",
        "operator",
        "leafnode_url",
        "clerks",
        "auditors",
        "operators",
        "metrics",
    }
    assert len(document["channels"]) >= 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "gateway" / "tokens.json").stat().st_mode) == 0o600


def test_a_restart_keeps_the_tokens_and_updates_the_urls(tmp_path: Path) -> None:
    first = issue(tmp_path)
    second = issue(tmp_path, gateway_url="http://127.0.0.1:8123")

    assert second.channels == first.channels
    assert second.auditor == first.auditor
    assert second.gateway_url == "http://127.0.0.1:8123"


def test_no_token_file_accepts_no_token(tmp_path: Path) -> None:
    assert load_tokens(tmp_path / "missing.json") == {}
