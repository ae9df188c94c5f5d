"""The demo clerks of a local stack: one Centro MAC advisor and one MAC Express advisor.

The Centro MAC Lima Norte advisor may take every procedure delegated at that counter; the
MAC Express advisor on the PIAS Napo river boat only those delegated there (the DNI duplicate and
the passport). Their passwords survive a restart, like the demo tokens, and are written to
`dev-credentials.json` for the person running the stack.
"""

from schemas.delegations import CENTRO_MAC_LIMA_NORTE, MAC_EXPRESS_PIAS_NAPO, delegations_at
from services.credentials import DemoClerk, DevCredentials, write_private
from services.datadir import DataDir
from services.gateway.web.counter_store import CounterStore, new_password

DEMO_CLERKS = {
    "asesor.lima-norte": CENTRO_MAC_LIMA_NORTE,
    "asesor.pias-napo": MAC_EXPRESS_PIAS_NAPO,
}


def issue_demo_clerks(data_dir: DataDir, credentials: DevCredentials) -> DevCredentials:
    """Make sure each demo clerk exists with its known password; the credentials with them."""
    store = CounterStore(data_dir.counter_store)
    clerks: dict[str, DemoClerk] = {}
    for user, channel in DEMO_CLERKS.items():
        previous = credentials.clerks.get(user)
        password = previous.password if previous else new_password()
        names = delegations_at(channel)
        existing = store.clerk(user)
        if existing is None:
            store.add(user, channel, names, password)
        elif existing.disabled or store.check_password(user, password) is None:
            store.reset(user, password)
        clerks[user] = DemoClerk(password=password, channel=channel, delegations=list(names))
    updated = credentials.model_copy(update={"clerks": clerks})
    write_private(data_dir.dev_credentials, updated.model_dump_json(indent=2))
    return updated
