"""What a running stack keeps in its data dir that a check reads: its ledger's store and the
folder where the back offices record their effects."""

from pathlib import Path

from services.case_ledger.store import LedgerStore
from services.datadir import DataDir


class StackFiles:
    """Mixed into a stack that has a `data_dir`."""

    data_dir: Path

    @property
    def store(self) -> LedgerStore:
        folder = DataDir(self.data_dir)
        return LedgerStore(folder.ledger_store_url(), folder.master_key)

    @property
    def backoffices(self) -> Path:
        return DataDir(self.data_dir).backoffices
