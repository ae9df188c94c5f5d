"""Options shared by several commands, spelled the same everywhere."""

from pathlib import Path
from typing import Annotated

import typer

from services.datadir import DEFAULT_DATA_DIR

DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        help="Folder of the local stack: NATS store, ledger, credentials, logs.",
        file_okay=False,
    ),
]
DEFAULT_DIR = DEFAULT_DATA_DIR

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
