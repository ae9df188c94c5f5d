"""JetStream's own encryption at rest for the local stack's bus store.

Commands, step requests and results carry personal data (DNIs, names, birth dates) in clear on
the bus; the ledger encrypts them, the bus would not. With `cipher` and `key` set, nats-server
encrypts every stream and KV bucket in its file store (ChaCha20-Poly1305), so no personal
value can be read from the store's files, and an erased citizen's data is not left behind in
them. The key lives in its own file beside the store (mode 0600), included by the generated
server configuration inside its one `jetstream` block: nats-server keeps only the last of two
`jetstream` blocks, so a second one would silently turn encryption off. The key is created once
and kept, since the store cannot be read without it. It protects copies of the store (a backup,
a disk image without the key file), not a reader of the whole data dir. Production keeps the
key apart from the data (see deploy/).
"""

import os
from pathlib import Path

from services.credentials import write_private

KEY_FILE_NAME = "jetstream-encryption.conf"
CIPHER = "chachapoly"


def ensure_store_key(folder: Path) -> Path:
    """The fragment of the `jetstream` block holding the store key, created the first time."""
    path = folder / KEY_FILE_NAME
    if not path.exists():
        key = os.urandom(32).hex()
        write_private(path, f'cipher: {CIPHER}\nkey: "{key}"\n')
    return path
