"""`ventanilla serve ...`: one service in the foreground, as `ventanilla up` starts its children.

Each process renames itself (`ventanilla ledger`, `ventanilla adapter reniec`, ...) so that
`ps` and `top` tell the children of a stack apart. Composition roots are imported only here,
so other commands do not pay for importing every service.
"""

import os
from pathlib import Path
from typing import Annotated

import typer
from setproctitle import setproctitle

from services.bus.permissions import GATEWAY, LEDGER
from services.cli.options import (
    DEFAULT_DIR,
    CredentialsOption,
    DataDirOption,
    MasterKeyOption,
    NatsUrlOption,
    SigningKeyOption,
    TlsCaOption,
    bus_login,
)
from services.sites.permissions import SITE_RELAY

app = typer.Typer(help="Run one service of the bus in the foreground (what `up` starts).")


@app.command()
def ledger(
    nats_url: NatsUrlOption,
    data_dir: DataDirOption = DEFAULT_DIR,
    signing_key: SigningKeyOption = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
    master_key: MasterKeyOption = None,
    partitions: Annotated[
        str,
        typer.Option(
            help="The partitions this worker prefers, e.g. 0-3 or 0,2,4; it stands by for the "
            "others and takes them over when their worker goes. Workers share a PostgreSQL "
            "store; a SQLite store has one.",
        ),
    ] = "all",
) -> None:
    """A case ledger worker: writes the cases of its partitions; the leader among the workers
    also relays the outbox, watches deadlines and signs checkpoints."""
    from services.case_ledger.main import serve

    # A worker given its partitions shows them in `ps`: `ventanilla ledger 0-3`.
    setproctitle("ventanilla ledger" + ("" if partitions == "all" else f" {partitions}"))
    login = bus_login(LEDGER, data_dir, credentials, tls_ca)
    serve(
        data_dir.resolve(),
        nats_url,
        signing_key,
        login,
        master_key=master_key,
        partitions=partitions,
    )


def back_office_variable(entity: str) -> str:
    """The environment variable naming `entity`'s back-office factory."""
    return "VENTANILLA_BACK_OFFICE_" + entity.upper().replace("-", "_")


@app.command()
def adapter(
    entity: Annotated[str, typer.Argument(help="The entity whose back office to serve.")],
    nats_url: NatsUrlOption,
    data_dir: DataDirOption = DEFAULT_DIR,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
    back_office: Annotated[
        str | None,
        typer.Option(
            help="module:factory that builds the entity's back office (default: "
            "$VENTANILLA_BACK_OFFICE_<ENTITY>, else its package's, the demo's fake).",
        ),
    ] = None,
    back_office_url: Annotated[
        str | None,
        typer.Option(
            help="Reach the entity's reference back office over HTTP at this URL "
            "(see `backoffice`)."
        ),
    ] = None,
) -> None:
    """An entity adapter: takes the entity's step requests and answers them."""
    from services.entity_adapters.main import serve

    setproctitle(f"ventanilla adapter {entity}")
    if back_office is None:
        # One variable per entity: a shared environment file (or `up`'s environment, which
        # every adapter child inherits) must not hand one entity's back office to all of them.
        back_office = os.environ.get(back_office_variable(entity)) or None
    login = bus_login(entity, data_dir, credentials, tls_ca)
    serve(
        entity,
        data_dir.resolve(),
        nats_url,
        login,
        back_office=back_office,
        back_office_url=back_office_url,
    )


@app.command()
def backoffice(
    entity: Annotated[str, typer.Argument(help="The entity whose reference back office to run.")],
    data_dir: DataDirOption = DEFAULT_DIR,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port to listen on.")] = 8100,
) -> None:
    """An entity's reference back office as an HTTP service (SUNARP), with its own SQLite store."""
    from services.datadir import DataDir
    from services.entity_adapters.registry import effects_file, http_back_offices

    offices = http_back_offices()
    if entity not in offices:
        raise typer.BadParameter(f"no HTTP back office for {entity!r}; known: {', '.join(offices)}")
    setproctitle(f"ventanilla backoffice {entity}")
    store = effects_file(DataDir(data_dir.resolve()).backoffices, entity)
    offices[entity].serve(store, host, port)


@app.command()
def gateway(
    nats_url: NatsUrlOption,
    data_dir: DataDirOption = DEFAULT_DIR,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port to listen on.")] = 8000,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
) -> None:
    """The HTTP gateway for channels, auditors and operators."""
    from services.gateway.main import serve

    setproctitle("ventanilla gateway")
    login = bus_login(GATEWAY, data_dir, credentials, tls_ca)
    serve(data_dir.resolve(), nats_url, host, port, login)


@app.command("site-relay")
def site_relay(
    nats_url: NatsUrlOption,
    data_dir: DataDirOption = DEFAULT_DIR,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
) -> None:
    """The hub's relay for MAC Express sites: their cases in, their statuses out."""
    from services.sites.relay_main import serve

    setproctitle("ventanilla site-relay")
    serve(data_dir.resolve(), nats_url, bus_login(SITE_RELAY, data_dir, credentials, tls_ca))


@app.command("site-gateway")
def site_gateway(
    nats_url: NatsUrlOption,
    bundle: Annotated[Path, typer.Option(help="The site's bundle folder.", file_okay=False)],
    data_dir: DataDirOption = DEFAULT_DIR,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port to listen on.")] = 8100,
) -> None:
    """A MAC Express site's gateway, on the site's own NATS."""
    from services.sites.gateway_main import serve

    setproctitle("ventanilla site-gateway")
    serve(bundle.resolve(), data_dir.resolve(), nats_url, host, port)


if __name__ == "__main__":
    # How `ventanilla up` starts its children: without the rest of the CLI, which a service does
    # not use (measured: half of a child's start-up CPU, 0.6 s of 1.2 s).
    app(prog_name="ventanilla serve")
