"""`ventanilla serve ...`: one service in the foreground, as `ventanilla up` starts its children.

Each process renames itself (`ventanilla ledger`, `ventanilla adapter reniec`, ...) so that
`ps` and `top` tell the children of a stack apart. Composition roots are imported only here,
so other commands do not pay for importing every service.
"""

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

app = typer.Typer(help="Run one service of the bus in the foreground (what `up` starts).")


@app.command()
def ledger(
    nats_url: NatsUrlOption,
    data_dir: DataDirOption = DEFAULT_DIR,
    signing_key: SigningKeyOption = None,
    credentials: CredentialsOption = None,
    tls_ca: TlsCaOption = None,
    master_key: MasterKeyOption = None,
) -> None:
    """The case ledger: the only writer of case events; it also signs checkpoints."""
    from services.case_ledger.main import serve

    setproctitle("ventanilla ledger")
    login = bus_login(LEDGER, data_dir, credentials, tls_ca)
    serve(data_dir.resolve(), nats_url, signing_key, login, personal_data_key=master_key)


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
            help="module:factory that builds the entity's back office (default: its package's, "
            "the demo's fake).",
            envvar="VENTANILLA_BACK_OFFICE",
        ),
    ] = None,
) -> None:
    """An entity adapter: takes the entity's step requests and answers them."""
    from services.entity_adapters.main import serve

    setproctitle(f"ventanilla adapter {entity}")
    login = bus_login(entity, data_dir, credentials, tls_ca)
    serve(entity, data_dir.resolve(), nats_url, login, back_office)


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
