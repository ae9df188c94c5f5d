"""The names, permissions, bundle and configurations of MAC Express sites (no network)."""

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from schemas import sites
from services.credentials import load_tokens
from services.sites.bundle import load_bundle, public_key, registered_sites, write_bundle
from services.sites.links import _time
from services.sites.permissions import site_leaf_user
from services.sites.site_config import render_site_config
from services.stack.nats_config import Leafnodes, TlsFiles, render


@pytest.mark.parametrize("bad", ["", "Pias", "pias_napo", "pias.napo", "-napo", "napo-", "a*"])
def test_a_site_id_must_be_a_safe_subject_token(bad: str) -> None:
    with pytest.raises(sites.InvalidSiteId):
        sites.check_site_id(bad)


def test_every_name_of_a_site_carries_its_id() -> None:
    assert sites.site_channel("pias-napo") == "mac-express-pias-napo"
    assert sites.outbox_stream("pias-napo") == "VENTANILLA_SITE_OUT_PIAS_NAPO"
    assert sites.case_status("pias-napo", UUID(int=1)).startswith("ventanilla.site.pias-napo.")


def test_a_sites_leaf_user_names_no_other_site_and_no_hub_command_subject() -> None:
    user = site_leaf_user("pias-napo")
    granted = user.publish + user.subscribe
    assert all("PIAS_NAPO" in s or "pias-napo" in s or s == "$JSC.R.*" for s in granted), granted
    assert not [s for s in granted if s.startswith("ventanilla.cmd") or s in (">", "$JS.API.>")]
    # It may never write its own statuses, only receive them.
    assert not [s for s in user.publish if ".status." in s or ".back." in s]


def test_a_bundle_written_again_keeps_its_seed_and_token(tmp_path: Path) -> None:
    tokens = tmp_path / "gateway" / "tokens.json"
    first = write_bundle(tmp_path, "tambo-estrecho", tokens_file=tokens)
    key, token = public_key(first), first.token
    again = write_bundle(tmp_path, "tambo-estrecho", tokens_file=tokens, leafnode_url="x")
    assert (public_key(again), again.token) == (key, token)
    assert load_bundle(again.folder).manifest.leafnode_url == "x"
    assert [b.site for b in registered_sites(tmp_path)] == ["tambo-estrecho"]
    # The hub's gateway accepts the site's token as the site's channel, and only that.
    principals = list(load_tokens(tokens).values())
    assert [(p.kind, p.id) for p in principals] == [("channel", "mac-express-tambo-estrecho")]


def test_the_hub_config_opens_a_leafnode_port_that_never_advertises(tmp_path: Path) -> None:
    tls = TlsFiles(tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem")
    text = render([], None, Leafnodes("10.0.0.5", 7422, "hub", tls))
    leafnodes = text[text.index("leafnodes {") :]
    assert 'jetstream {\n  domain: "hub"\n}' in text
    assert 'listen: "10.0.0.5:7422"' in leafnodes
    assert "no_advertise: true" in leafnodes
    assert str(tls.ca.resolve()) in leafnodes


def test_the_site_config_is_a_leaf_with_its_own_domain_that_fsyncs(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path, "pias-napo", tokens_file=tmp_path / "tokens.json")
    text = render_site_config(bundle, "nats-leaf://hub.example:7422")
    assert 'domain: "pias-napo"' in text
    assert "sync_interval: always" in text
    assert 'url: "nats-leaf://hub.example:7422"' in text
    assert bundle.seed_file.read_text().strip() in text


def test_server_times_keep_microseconds_and_never_is_none() -> None:
    assert _time("2026-12-01T08:32:52.172234567Z") == datetime(
        2026, 12, 1, 8, 32, 52, 172234, tzinfo=UTC
    )
    assert _time("0001-01-01T00:00:00Z") is None
