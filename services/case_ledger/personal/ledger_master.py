"""Which master key a ledger store opens with.

The master key file is named by the ledger's `PERSONAL_DATA_MASTER_KEY` setting. It is created
only for a store that holds no data key yet: a store whose keys another master key wrapped must
be given that key (or the rotation that replaces it is finished first), never a new one.
"""

from pathlib import Path

from ..store import MASTER_KEY_SETTING
from .keystore import KeyStore, MemoryKeyStore
from .master import BadMasterKey, MasterKey, load_master_key
from .rotation import finish_rotation


def ledger_master_key(store: KeyStore, path: str | None) -> MasterKey:
    """The configured master key for `store`; raises `BadMasterKey` naming what is wrong."""
    if not path:
        if isinstance(store, MemoryKeyStore):
            return MasterKey.generate()  # an in-memory ledger's keys die with it anyway
        raise BadMasterKey(
            f"the ledger needs {MASTER_KEY_SETTING}: the file of the master key that wraps "
            "the citizens' data keys (kept outside the database)"
        )
    existing = store.any_row()
    master = load_master_key(Path(path), create=existing is None)
    if existing is not None and existing.master_key_id != master.key_id:
        if finish_rotation(Path(path), existing.master_key_id):  # a rotation cut short
            return load_master_key(Path(path), create=False)
        raise BadMasterKey(
            f"the ledger's data keys were wrapped by master key {existing.master_key_id}; "
            f"{path} holds {master.key_id}"
        )
    return master
