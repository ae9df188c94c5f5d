"""Reading the ledger of a local stack straight from its data dir (no gateway needed)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from services.cli.failures import CliError
from services.datadir import DataDir


@contextmanager
def open_ledger(data_dir: DataDir) -> Iterator[CaseLedger]:
    url = data_dir.ledger_store_url()
    parsed = urlparse(url)
    if parsed.scheme == "sqlite" and not Path(unquote(parsed.path)).exists():
        # Opening would create an empty ledger in a folder that probably is the wrong one.
        raise CliError(
            f"no ledger in {data_dir.root}",
            "Point --data-dir at the folder `ventanilla up` uses (default ./var).",
        )
    ledger = CaseLedger(catalog(), LedgerStore(url).environment())
    try:
        yield ledger
    finally:
        ledger.close()
