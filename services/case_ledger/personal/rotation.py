"""Rotating the master key: every citizen's data key re-wrapped under a new one, the old retired.

The data keys themselves do not change, so no stored event changes: every value still opens,
every hash chain still verifies, and an erased citizen stays erased (their row holds no key to
re-wrap). The new master key keeps the old one's pseudonym key (see `master`).

Crash safety: the new key is first written beside the old one (`<file>.next`, 0600, on disk),
then all rows are re-wrapped in one transaction, then the new key replaces the old file. A crash
before the transaction leaves the old key in force (the next rotation resumes with the same new
key); a crash after it leaves rows under the new key and `<file>.next` holding it, which
`finish_rotation` (run when a ledger opens) puts in place.

Run it with the ledger stopped: a running ledger keeps the old key in memory and would wrap a
new citizen's key with it after the rotation.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from .keystore import KeyRow, KeyStore
from .master import BadMasterKey, MasterKey, load_master_key, write_draft


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    rewrapped: int  # data keys now wrapped by the new master key
    erased: int  # rows of erased citizens: no key to re-wrap, now naming the new master key


def pending_path(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def rotate_master_key(store: KeyStore, current: MasterKey, path: Path) -> Rotation:
    pending = pending_path(path)
    if pending.exists():
        new = load_master_key(pending, create=False)  # resume an interrupted rotation
    else:
        new = current.successor()
        os.replace(write_draft(pending, new), pending)
    updated: list[KeyRow] = []
    rewrapped = erased = 0
    for row in store.rows():
        if row.master_key_id == new.key_id:
            continue
        if row.master_key_id != current.key_id:
            raise BadMasterKey(
                f"data key {row.key_id} was wrapped by master key {row.master_key_id}, neither "
                f"the current ({current.key_id}) nor the new one ({new.key_id})"
            )
        if row.wrapped is None:
            erased += 1
            updated.append(KeyRow(row.key_id, None, new.key_id))
        else:
            rewrapped += 1
            data_key = current.unwrap(row.key_id, row.wrapped)
            updated.append(KeyRow(row.key_id, new.wrap(row.key_id, data_key), new.key_id))
    store.rewrap(updated)
    # The old secret leaves the disk here: from now on only the new key opens the data keys.
    os.replace(pending, path)
    return Rotation(current.key_id, new.key_id, rewrapped, erased)


def finish_rotation(path: Path, wrapped_by: str) -> bool:
    """Put an interrupted rotation's new key in place if the rows were already re-wrapped by it."""
    pending = pending_path(path)
    if not pending.exists() or load_master_key(pending, create=False).key_id != wrapped_by:
        return False
    os.replace(pending, path)
    return True
