"""Options shared by several commands, spelled the same everywhere."""

from pathlib import Path
from typing import Annotated

import typer

from schemas.procedures import use_data_dir_catalog
from services.bus.connection import BusLogin
from services.datadir import DEFAULT_DATA_DIR, DataDir
from services.stack.nats_config import USERS_DIR, TlsFiles, seed_file


def _read_its_catalog(data_dir: Path) -> Path:
    # Every process given a data dir reads the procedure files an administrator put in its
    # catalog/ folder: `up` checks them, and the ledger, gateway and adapters it starts (each
    # given the same --data-dir) serve them.
    use_data_dir_catalog(DataDir(data_dir).catalog)
    return data_dir


DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        help="Folder of the local stack: NATS store, ledger, credentials, logs, catalog/.",
        file_okay=False,
        callback=_read_its_catalog,
    ),
]
DEFAULT_DIR = DEFAULT_DATA_DIR
MASTER_KEY_ENV = "VENTANILLA_MASTER_KEY"

NatsUrlOption = Annotated[str, typer.Option("--nats-url", help="The NATS server to connect to.")]

SigningKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--signing-key",
        envvar="VENTANILLA_SIGNING_KEY",
        help="The checkpoint signing key (default: ledger/audit-signing-key.pem in the data dir).",
        dir_okay=False,
    ),
]
MasterKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--master-key",
        envvar=MASTER_KEY_ENV,
        help="The master key of the citizens' data keys "
        "(default: ledger/personal-data-master.key in the data dir).",
        dir_okay=False,
    ),
]
CredentialsOption = Annotated[
    Path | None,
    typer.Option(
        "--credentials",
        help="This process's NATS nkey seed (default: <data dir>/nats/users/<user>.nk if present).",
        dir_okay=False,
    ),
]
TlsCertOption = Annotated[
    Path | None, typer.Option("--tls-cert", help="The NATS server's TLS certificate (PEM).")
]
TlsKeyOption = Annotated[
    Path | None, typer.Option("--tls-key", help="The private key of that certificate (PEM).")
]
TlsCaOption = Annotated[
    Path | None,
    typer.Option("--tls-ca", help="The authority that signed the NATS server's certificate."),
]


def tls_files(cert: Path | None, key: Path | None, ca: Path | None) -> TlsFiles | None:
    """TLS needs all three files or none."""
    given = [f for f in (cert, key, ca) if f is not None]
    if not given:
        return None
    if cert is None or key is None or ca is None:
        raise typer.BadParameter("TLS needs --tls-cert, --tls-key and --tls-ca together")
    return TlsFiles(cert=cert.resolve(), key=key.resolve(), ca=ca.resolve())


def bus_login(user: str, data_dir: Path, credentials: Path | None, tls_ca: Path | None) -> BusLogin:
    """Who this process is on the bus: the given seed, or its user's seed in the data dir."""
    seed = credentials or seed_file(DataDir(data_dir).nats_store / USERS_DIR, user)
    if credentials is None and not seed.exists():
        return BusLogin(user=user, tls_ca=tls_ca)  # a server without users (development, tests)
    return BusLogin(user=user, nkey_seed=seed, tls_ca=tls_ca)


PurposeOption = Annotated[
    str,
    typer.Option(
        "--purpose",
        help="Why you read this personal data: recorded with the read and shown in the "
        "citizen's access log (required).",
    ),
]
