"""The demo accounts of a local stack's web console: two clerks, an auditor and an operator.

The Centro MAC Lima Norte advisor may take every procedure delegated at that counter; the
MAC Express advisor on the PIAS Napo river boat only those delegated there (the DNI duplicate and
the passport). The auditor (an SGP auditor) opens /auditoria, the operator /operaciones. Their
passwords survive a restart, like the demo tokens, and are written to `dev-credentials.json` for
the person running the stack.
"""

from schemas.delegations import CENTRO_MAC_LIMA_NORTE, MAC_EXPRESS_PIAS_NAPO, delegations_at
from services.credentials import DemoClerk, DemoStaff, DevCredentials, write_private
from services.datadir import DataDir
from services.gateway.web.counter_store import CounterStore, Role, new_password

DEMO_CLERKS = {
    "asesor.lima-norte": CENTRO_MAC_LIMA_NORTE,
    "asesor.pias-napo": MAC_EXPRESS_PIAS_NAPO,
}
DEMO_STAFF: dict[str, Role] = {
    "auditor.sgp": "auditor",
    "operador.mac": "operator",
}


def issue_demo_clerks(data_dir: DataDir, credentials: DevCredentials) -> DevCredentials:
    """Make sure each demo account exists with its known password; the credentials with them."""
    return issue_accounts(data_dir, credentials, DEMO_CLERKS, DEMO_STAFF)


def issue_accounts(
    data_dir: DataDir,
    credentials: DevCredentials,
    clerk_channels: dict[str, str],
    staff_roles: dict[str, Role],
) -> DevCredentials:
    """Make sure each account exists with the password `credentials` knows for it (a new one
    the first time), and write the credentials with them to the data dir's file."""
    store = CounterStore(data_dir.counter_store)
    clerks: dict[str, DemoClerk] = {}
    for user, channel in clerk_channels.items():
        previous = credentials.clerks.get(user)
        password = previous.password if previous else new_password()
        names = delegations_at(channel)
        existing = store.clerk(user)
        if existing is None:
            store.add(user, channel, names, password)
        elif existing.disabled or store.check_password(user, password) is None:
            store.reset(user, password)
        clerks[user] = DemoClerk(password=password, channel=channel, delegations=list(names))
    staff: dict[Role, dict[str, DemoStaff]] = {"auditor": {}, "operator": {}}
    known = {**credentials.auditors, **credentials.operators}
    for user, role in staff_roles.items():
        password = known[user].password if user in known else new_password()
        member = store.staff_member(user)
        if member is None:
            store.add_staff(user, role, password)
        elif member.disabled or store.check_staff_password(user, password) is None:
            store.reset_staff(user, password)
        staff[role][user] = DemoStaff(password=password)
    updated = credentials.model_copy(
        update={"clerks": clerks, "auditors": staff["auditor"], "operators": staff["operator"]}
    )
    write_private(data_dir.dev_credentials, updated.model_dump_json(indent=2))
    return updated
