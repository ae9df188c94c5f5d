"""Who reads personal data through the CLI: the operating-system user, with the purpose they give.

The CLI runs on the ledger's machine as someone with access to its data dir; the read is
recorded under that account's name (`cli:<user>`), never under a name the caller picks.
"""

import getpass
import uuid

from schemas.queries import ReadContext


def cli_read(purpose: str | None) -> ReadContext:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): the uid itself
        import os

        user = f"uid-{os.getuid()}"
    return ReadContext(
        reader_kind="cli",
        reader_id=user,
        purpose=purpose,
        request_id=uuid.uuid4().hex,
        service="cli",
    )
