"""`ventanilla deploy ...`: what an operator prepares for a bus with real users.

`nats-config` writes the nats-server configuration (users and permissions generated from the
catalog) and one nkey seed per user; `topology` creates the streams, the idempotency and case
status buckets and the entities' consumers as the bus owner, since no service may create them.
"""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from schemas.entities import ENTITIES
from services.bus.connection import BusLogin
from services.bus.permissions import bus_users
from services.bus.topology import ensure_topology
from services.cli.bus_client import connect_for_command
from services.cli.failures import expected_failures
from services.cli.options import (
    DEFAULT_DIR,
    DataDirOption,
    NatsUrlOption,
    TlsCaOption,
    TlsCertOption,
    TlsKeyOption,
    tls_files,
)
from services.credentials import DEMO_CHANNELS
from services.datadir import DataDir
from services.stack.nats_config import USERS_DIR, write_nats_config

app = typer.Typer(help="Prepare a deployment: NATS users and permissions, the bus topology.")
console = Console(highlight=False, soft_wrap=True)


@app.command("nats-config")
def nats_config(
    data_dir: DataDirOption = DEFAULT_DIR,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write nats-server.conf and users/ (default: <data dir>/nats)."),
    ] = None,
    tls_cert: TlsCertOption = None,
    tls_key: TlsKeyOption = None,
    tls_ca: TlsCaOption = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(help="A channel that may submit over NATS (repeat; default: the demo ones)."),
    ] = None,
) -> None:
    """Write the server configuration and each user's seed (existing seeds are kept)."""
    from services.sites.bundle import registered_sites
    from services.sites.hub import hub_site_users

    folder = out or DataDir(data_dir).nats_store
    channels = tuple(channel or DEMO_CHANNELS)
    # The sites written with `deploy site` into this data dir, with the hub's site relay.
    bundles = registered_sites(DataDir(data_dir).root)
    config = write_nats_config(
        folder,
        ENTITIES,
        tls_files(tls_cert, tls_key, tls_ca),
        channels,
        extra_users=hub_site_users(folder / USERS_DIR, bundles) if bundles else (),
        sites=[b.site for b in bundles],
    )
    for user in bus_users(tuple(ENTITIES), channels):
        console.print(f"{user.name:<14} {config.seed_file(user.name)}")
    console.print(f"configuration: [bold]{config.config_file}[/]")


@app.command("topology")
def topology(
    nats_url: NatsUrlOption,
    credentials: Annotated[
        Path, typer.Option(help="The bus owner's seed file (users/admin.nk).", exists=True)
    ],
    tls_ca: TlsCaOption = None,
    replicas: Annotated[
        int,
        typer.Option(help="Servers that keep each stream: 3 on a three-node cluster.", min=1),
    ] = 1,
    site: Annotated[
        list[str] | None,
        typer.Option(help="A MAC Express site whose hub streams to create (repeat)."),
    ] = None,
    ledger_partitions: Annotated[
        int,
        typer.Option(
            help="Partitions the commands and results streams map cases to; ledger workers "
            "share them. Change it only while the ledger has read everything.",
            min=1,
        ),
    ] = 8,
) -> None:
    """Create or update the streams, the KV bucket and the entities' consumers."""
    from services.sites.hub import ensure_hub_sites

    async def apply() -> None:
        nc = await connect_for_command(
            nats_url, "ventanilla-deploy", BusLogin.from_seed_file(credentials, tls_ca)
        )
        try:
            await ensure_topology(
                nc.jetstream(), replicas=replicas, ledger_partitions=ledger_partitions
            )
            await ensure_hub_sites(nc.jetstream(), list(site or ()), replicas)
        finally:
            await nc.close()

    with expected_failures():
        asyncio.run(apply())
    console.print("[bold green]topology in place[/]")


@app.command("site")
def site(
    site: Annotated[str, typer.Option(help="The site's id, e.g. pias-napo (names its channel).")],
    data_dir: DataDirOption = DEFAULT_DIR,
    leafnode_url: Annotated[
        str | None, typer.Option(help="The hub's leafnode URL as the site reaches it.")
    ] = None,
    tls_ca: TlsCaOption = None,
) -> None:
    """Write a MAC Express site's bundle under <data dir>/sites/<site>/ (kept if it exists).

    Restart `ventanilla up` afterwards: the hub's server admits the sites it finds there.
    """
    from schemas.sites import InvalidSiteId
    from services.sites.bundle import write_bundle

    d = DataDir(data_dir)
    try:
        bundle = write_bundle(
            d.root, site, tokens_file=d.gateway_tokens, leafnode_url=leafnode_url, tls_ca=tls_ca
        )
    except InvalidSiteId as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"site {bundle.site}: channel {bundle.channel}")
    console.print(f"bundle: [bold]{bundle.folder}[/] (copy it to the site; it holds secrets)")
