"""Reading the ledger of a local stack straight from its data dir (no gateway needed)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.opening import open_case_ledger
from services.case_ledger.personal.master import BadMasterKey
from services.case_ledger.store import LedgerStore
from services.cli.failures import CliError
from services.cli.options import MASTER_KEY_ENV
from services.datadir import DataDir


def master_key_path(data_dir: DataDir, master_key: Path | None = None) -> Path:
    return master_key or Path(os.environ.get(MASTER_KEY_ENV) or data_dir.master_key)


def ledger_exists(data_dir: DataDir) -> bool:
    """False for a SQLite ledger whose file is not there (yet: the ledger creates it at start)."""
    parsed = urlparse(data_dir.ledger_store_url())
    return parsed.scheme != "sqlite" or Path(unquote(parsed.path)).exists()


@contextmanager
def open_ledger(data_dir: DataDir, master_key: Path | None = None) -> Iterator[CaseLedger]:
    """The ledger of a data dir; its master key from `master_key`, $VENTANILLA_MASTER_KEY or
    the data dir."""
    url = data_dir.ledger_store_url()
    if not ledger_exists(data_dir):
        # Opening would create an empty ledger in a folder that probably is the wrong one.
        raise CliError(
            f"no ledger in {data_dir.root}",
            "Point --data-dir at the folder `ventanilla up` uses (default ./var).",
        )
    key = master_key_path(data_dir, master_key)
    try:
        ledger = open_case_ledger(catalog(), LedgerStore(url, key).environment())
    except BadMasterKey as exc:
        raise CliError(str(exc), "Use --master-key or VENTANILLA_MASTER_KEY.") from None
    try:
        yield ledger
    finally:
        ledger.close()
