"""A site's bundle: what the hub's operator hands to a MAC Express site to run on its own.

`ventanilla deploy site --site X` writes it under `<hub data dir>/sites/X/`; the same folder is
the hub's record of the site (the hub's nats-server admits the site's leaf node by the public key
of `site.nk`). Copy the folder to the site's machine; `ventanilla site up --bundle` reads it.

- `site.json`: the site's id, channel, JetStream domains and link settings (no secret);
- `site.nk`: the nkey seed of the site's leaf-node user on the hub (mode 0600);
- `channel.token`: the bearer token of the site's channel, valid at the site and at the hub;
- `ca.pem`: the authority of the hub's certificate, when the hub's leafnode port uses TLS.
"""

import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from schemas.sites import HUB_DOMAIN, check_site_id, site_channel, site_domain
from services.credentials import Principal, write_private
from services.stack.nats_config import ensure_seed
from services.tokens import issue_token

SITES_DIR = "sites"
MANIFEST, TOKEN, CA = "site.json", "channel.token", "ca.pem"
SEED_USER = "site"  # ensure_seed keeps it in <folder>/site.nk
SEED = f"{SEED_USER}.nk"
# The site of `make up`: the kiosk on the PIAS boat of the Napo river.
DEMO_SITE = "pias-napo"


class LinkSettings(BaseModel):
    """How the site's leaf node treats its link to the hub.

    A boat's link is slow and drops; these keep the leaf reconnecting quickly once the link is
    back, and say when a silent link counts as down.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reconnect_seconds: float = Field(default=2.0, gt=0)
    # How long the site waits for the hub's first INFO on a new connection. The server's default
    # (1 s) is shorter than that INFO takes over a 64 kbit/s link with 500 ms latency: the leaf
    # then closed every connection after 1 s and retried forever (measured on 2.15.1, the
    # endless reconnect loop of nats-server#7615's kind). 10 s lets such a link through.
    first_info_seconds: float = Field(default=10.0, gt=0)
    ping_interval_seconds: float = Field(default=10.0, gt=0)
    ping_max: int = Field(default=3, ge=1)


class SiteManifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    site: str
    channel: str
    domain: str
    hub_domain: str = HUB_DOMAIN
    leaf_user: str = Field(description="The site's user on the hub's server.")
    leafnode_url: str | None = Field(
        default=None, description="The hub's leafnode URL as the hub knows it (a hint)."
    )
    link: LinkSettings = LinkSettings()


class SiteBundle(BaseModel):
    """A bundle read from its folder."""

    model_config = ConfigDict(frozen=True)

    folder: Path
    manifest: SiteManifest

    @property
    def site(self) -> str:
        return self.manifest.site

    @property
    def channel(self) -> str:
        return self.manifest.channel

    @property
    def seed_file(self) -> Path:
        return self.folder / SEED

    @property
    def token(self) -> str:
        return (self.folder / TOKEN).read_text().strip()

    @property
    def ca_file(self) -> Path | None:
        ca = self.folder / CA
        return ca if ca.exists() else None


def leaf_user_name(site: str) -> str:
    return f"site-{site}"


def sites_dir(hub_data_dir: Path) -> Path:
    return hub_data_dir / SITES_DIR


def write_bundle(
    hub_data_dir: Path,
    site: str,
    *,
    tokens_file: Path,
    leafnode_url: str | None = None,
    tls_ca: Path | None = None,
) -> SiteBundle:
    """Write (or refresh) the site's bundle; an existing seed and token are kept.

    Keeping them means re-running the command never locks a deployed site out.
    """
    check_site_id(site)
    folder = sites_dir(hub_data_dir) / site
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ensure_seed(folder, SEED_USER)
    if not (folder / TOKEN).exists():
        _, token = issue_token(tokens_file, Principal(kind="channel", id=site_channel(site)))
        write_private(folder / TOKEN, token + "\n")
    if tls_ca is not None:
        shutil.copyfile(tls_ca, folder / CA)
    manifest = SiteManifest(
        site=site,
        channel=site_channel(site),
        domain=site_domain(site),
        leaf_user=leaf_user_name(site),
        leafnode_url=leafnode_url,
    )
    write_private(folder / MANIFEST, manifest.model_dump_json(indent=2) + "\n")
    return SiteBundle(folder=folder, manifest=manifest)


def load_bundle(folder: Path) -> SiteBundle:
    manifest = SiteManifest.model_validate_json((folder / MANIFEST).read_text())
    return SiteBundle(folder=folder, manifest=manifest)


def registered_sites(hub_data_dir: Path) -> list[SiteBundle]:
    """The sites the hub admits: every bundle under `<hub data dir>/sites/`."""
    root = sites_dir(hub_data_dir)
    if not root.is_dir():
        return []
    return [load_bundle(f) for f in sorted(root.iterdir()) if (f / MANIFEST).exists()]


def public_key(bundle: SiteBundle) -> str:
    """The public nkey of the site's leaf user (the hub's configuration holds only this)."""
    return ensure_seed(bundle.folder, SEED_USER)
