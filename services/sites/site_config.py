"""The site's nats-server configuration: a leaf node of the hub with its own JetStream domain.

The site's server keeps the advisor's cases on the site's own disk (`sync_interval: always`:
the outgoing stream holds the only copy of a case until the hub has it, and a boat's power
fails). It listens on loopback only: the site's processes run on the same machine.
"""

import json
from pathlib import Path

from services.credentials import write_private

from .bundle import SiteBundle

CONFIG_NAME = "nats-server.conf"


def render_site_config(bundle: SiteBundle, hub_url: str) -> str:
    m, link = bundle.manifest, bundle.manifest.link
    remote: list[str] = [
        f"      url: {json.dumps(hub_url)}",
        f"      first_info_timeout: {json.dumps(f'{link.first_info_seconds:g}s')}",
        # The seed of the site's user on the hub; this file is private to the site (0600).
        f"      nkey: {json.dumps(bundle.seed_file.read_text().strip())}",
    ]
    if bundle.ca_file is not None:
        remote.append(f"      tls {{ ca_file: {json.dumps(str(bundle.ca_file.resolve()))} }}")
    return "\n".join(
        [
            f"# MAC Express site {m.site}: written by `ventanilla site up`, do not edit by hand.",
            f"server_name: {json.dumps('site-' + m.site)}",
            f"ping_interval: {json.dumps(f'{link.ping_interval_seconds:g}s')}",
            f"ping_max: {link.ping_max}",
            "jetstream {",
            f"  domain: {json.dumps(m.domain)}",
            "  sync_interval: always",
            "}",
            "leafnodes {",
            f"  reconnect: {json.dumps(f'{link.reconnect_seconds:g}s')}",
            "  remotes = [",
            "    {",
            *remote,
            "    }",
            "  ]",
            "}",
            "",
        ]
    )


def write_site_config(bundle: SiteBundle, hub_url: str, out_dir: Path) -> Path:
    path = out_dir / CONFIG_NAME
    write_private(path, render_site_config(bundle, hub_url))
    return path
