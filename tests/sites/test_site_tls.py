"""A MAC Express site reaches a hub whose leafnode port uses TLS, trusting the CA its bundle
carries; a site whose bundle trusts another authority never links.

Real processes throughout: the hub is `ventanilla up --tls-cert/--tls-key/--tls-ca` with a CA
made for this module, each site `ventanilla site up` with the hub's own leafnode URL (no proxy
between). Each bundle is written by `ventanilla deploy site --tls-ca`, which copies the CA into
it as `ca.pem`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness.up import running_up
from tests.processes import eventually
from tests.throwaway_ca import Certificates, issue

from .harness import Hub, offline_orders, register_sites, site_linked_at

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TRUSTING = "pias-yurua"  # its bundle carries the CA that signed the hub's certificate
MISLED = "tambo-breu"  # its bundle carries a CA that signed nothing of the hub's
CASES = 5
CATCH_UP = 120.0
LINK_UP = 30.0  # a leaf reconnects every 2 s
UNKNOWN_AUTHORITY = "x509: certificate signed by unknown authority"


@dataclass(frozen=True)
class TlsHub:
    hub: Hub
    certs: Certificates


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsHub]:
    root = tmp_path_factory.mktemp("tls-hub")
    certs = issue(root / "pki")
    stranger = issue(root / "stranger-pki")
    register_sites(root / "var", [TRUSTING], tls_ca=certs.ca)
    register_sites(root / "var", [MISLED], tls_ca=stranger.ca)
    tls = ["--tls-cert", str(certs.cert), "--tls-key", str(certs.key), "--tls-ca", str(certs.ca)]
    with running_up(root / "var", root / "up.out", None, *tls) as up:
        port = urlsplit(up.credentials.leafnode_url or "").port
        assert port is not None
        yield TlsHub(Hub(up, port), certs)


async def test_cases_cross_a_tls_leafnode_link_once_and_their_statuses_come_back(
    tls_hub: TlsHub, tmp_path: Path
) -> None:
    hub = tls_hub.hub
    # The hub's leafnode port takes TLS connections only.
    assert hub.monitor("varz")["leaf"]["tls_required"] is True
    assert (hub.bundle(TRUSTING) / "ca.pem").read_bytes() == tls_hub.certs.ca.read_bytes()
    with site_linked_at(TRUSTING, tmp_path, hub, hub.leafnode_url) as site:
        case_ids = await site.submit(offline_orders(CASES, seed=701))
        hub.accepted += case_ids
        eventually(
            lambda: hub.leaf_names() == [f"site-{TRUSTING}"] or None,
            LINK_UP,
            f"site {TRUSTING}'s leaf node to connect over TLS",
        )
        await site.wait_all_final(case_ids, CATCH_UP)
        (link,) = await hub.site_links()
        assert (link.site, link.connected, link.backlog, link.forwarded) == (
            TRUSTING,
            True,
            0,
            CASES,
        )
        assert UNKNOWN_AUTHORITY not in site.nats_log()
        printed = hub.sites_command(tls_hub.certs.ca)
        row = next(line for line in printed.splitlines() if TRUSTING in line)
        assert (row.split()[1], row.split()[-1]) == ("up", str(CASES)), row
    hub.assert_each_case_once("a site linked over TLS")


async def test_a_site_whose_bundle_trusts_another_authority_never_links(
    tls_hub: TlsHub, tmp_path: Path
) -> None:
    hub = tls_hub.hub
    with site_linked_at(MISLED, tmp_path, hub, hub.leafnode_url) as site:
        # Accepted at the site, but not added to `hub.accepted`: the ledger check below fails
        # on any of them reaching the hub.
        case_ids = await site.submit(offline_orders(CASES, seed=702))
        # The leaf retries every 2 s; its second refusal shows the first was no accident.
        eventually(
            lambda: site.nats_log().count(UNKNOWN_AUTHORITY) >= 2 or None,
            30,
            f"site {MISLED} to refuse the hub's certificate twice",
        )
        assert f"site-{MISLED}" not in hub.leaf_names()
        (link,) = await hub.site_links()
        assert (link.site, link.connected, link.forwarded) == (MISLED, False, 0)
        held = {c["case_id"]: c for c in await site.cases()}
        assert sorted(held) == sorted(str(c) for c in case_ids)
        waiting = [
            not c["forwarded"] and c["status"] == "pendiente de envío" for c in held.values()
        ]
        assert all(waiting), held
    # The hub saw each attempt fail in the handshake, before any login.
    assert "TLS leafnode handshake error: remote error: tls: bad certificate" in hub.nats_log()
    hub.assert_each_case_once("a site that trusts another authority")
