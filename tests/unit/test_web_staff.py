"""Staff accounts (auditors, operators): the store, the CLI, the demo accounts and role checks."""

import re
from pathlib import Path

from fastapi import Depends
from typer.testing import CliRunner

from services.cli.main import app as cli
from services.credentials import DevCredentials, issue_dev_credentials
from services.datadir import DataDir
from services.gateway.web.counter_store import ClerkError, CounterStore, StaffMember
from services.stack.demo_clerks import issue_demo_clerks
from tests.unit.web_pages import LIMA_NORTE, PASSWORD, pages

runner = CliRunner(env={"COLUMNS": "200"})
AUDITOR, OPERATOR = "auditora.sgp", "operador.noc"


def password_in(output: str) -> str:
    found = re.search(r"^password\s+(\S+)$", output, re.M)
    assert found, output
    return found.group(1)


def test_staff_accounts_keep_hashes_and_names_stay_unique(tmp_path: Path) -> None:
    path = tmp_path / "counter.sqlite"
    store = CounterStore(path)
    store.add_staff(AUDITOR, "auditor", "clave-auditora-1")
    store.add(LIMA_NORTE, "mac-lima-norte", (), PASSWORD)
    raw = b"".join(f.read_bytes() for f in [path, *path.parent.glob(path.name + "-*")])
    assert b"clave-auditora-1" not in raw
    for clash in (
        lambda: store.add_staff(LIMA_NORTE, "operator", "x"),  # a clerk's name
        lambda: store.add(AUDITOR, "mac-lima-norte", (), "x"),  # a staff member's name
        lambda: store.add_staff(AUDITOR, "operator", "x"),  # taken
    ):
        try:
            clash()
        except ClerkError:
            continue
        raise AssertionError("a login name was given twice")
    assert store.check_login(AUDITOR, "clave-auditora-1") == StaffMember(AUDITOR, "auditor")
    assert store.check_login(AUDITOR, PASSWORD) is None
    assert store.check_login(LIMA_NORTE, PASSWORD) == store.clerk(LIMA_NORTE)
    token = store.open_staff_session(AUDITOR)
    assert store.session_staff(token) == StaffMember(AUDITOR, "auditor")
    assert store.session_clerk(token) is None  # a staff session opens no clerk pages
    store.disable_staff(AUDITOR)
    assert store.session_staff(token) is None
    assert store.check_login(AUDITOR, "clave-auditora-1") is None


def test_the_cli_adds_resets_and_disables_each_role(tmp_path: Path) -> None:
    where = ["--data-dir", str(tmp_path)]
    store = CounterStore(DataDir(tmp_path).counter_store)
    added = runner.invoke(cli, ["auditor", "add", AUDITOR, *where])
    assert added.exit_code == 0, added.output
    first = password_in(added.output)
    assert store.check_staff_password(AUDITOR, first) == StaffMember(AUDITOR, "auditor")
    assert runner.invoke(cli, ["operator", "add", OPERATOR, *where]).exit_code == 0
    assert store.staff_member(OPERATOR) == StaffMember(OPERATOR, "operator")

    wrong_role = runner.invoke(cli, ["operator", "reset", AUDITOR, *where])
    assert wrong_role.exit_code == 1
    assert "no operator" in wrong_role.output
    reset = runner.invoke(cli, ["auditor", "reset", AUDITOR, *where])
    assert reset.exit_code == 0, reset.output
    assert store.check_staff_password(AUDITOR, first) is None
    assert store.check_staff_password(AUDITOR, password_in(reset.output)) is not None

    assert runner.invoke(cli, ["auditor", "disable", AUDITOR, *where]).exit_code == 0
    assert store.check_staff_password(AUDITOR, password_in(reset.output)) is None
    listed = runner.invoke(cli, ["auditor", "list", *where])
    assert f"{AUDITOR}  disabled" in listed.output
    assert OPERATOR not in listed.output
    again = runner.invoke(cli, ["operator", "add", AUDITOR, *where])
    assert again.exit_code == 1


def test_demo_staff_are_written_to_the_credentials_and_keep_their_passwords(
    tmp_path: Path,
) -> None:
    data = DataDir(tmp_path)

    def issue() -> DevCredentials:
        first = issue_dev_credentials(
            data.gateway_tokens, data.dev_credentials, "http://gw", "nats://bus"
        )
        return issue_demo_clerks(data, first)

    credentials = issue()
    written = DevCredentials.model_validate_json(data.dev_credentials.read_text())
    assert written.auditors
    assert written.operators
    assert written == credentials
    store = CounterStore(data.counter_store)
    for role, accounts in (("auditor", written.auditors), ("operator", written.operators)):
        for user, demo in accounts.items():
            assert store.check_login(user, demo.password) == StaffMember(user, role)  # type: ignore[arg-type]
    again = issue()
    assert again.auditors == written.auditors
    assert again.operators == written.operators


def test_each_account_reaches_only_its_own_pages(tmp_path: Path) -> None:
    web = pages(tmp_path)
    web.store.add_staff(AUDITOR, "auditor", PASSWORD)
    web.store.add_staff(OPERATOR, "operator", PASSWORD)

    # A page that needs an operator, as the operations pages declare it.
    @web.client.app.get("/prueba-operaciones")  # type: ignore[attr-defined]
    async def operations_probe(
        member: StaffMember = Depends(web.console.requires("operator")),
    ) -> dict[str, str]:
        return {"user": member.user}

    anonymous = web.client.get("/auditoria")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/ingresar?siguiente=/auditoria"

    # A clerk: their counter, never the staff pages (a page, or a problem for an API client).
    assert web.log_in(LIMA_NORTE).headers["location"] == "/"
    refused = web.client.get("/auditoria")
    assert refused.status_code == 403
    assert "Página no disponible para su cuenta" in refused.text
    as_api = web.client.get("/prueba-operaciones", headers={"accept": "application/json"})
    assert as_api.status_code == 403
    assert as_api.headers["content-type"] == "application/problem+json"
    assert as_api.json()["type"].endswith("/wrong-account")
    web.post("/salir", {})

    # An auditor: sent to /auditoria, refused the counter and the operations pages.
    logged_in = web.log_in(AUDITOR)
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/auditoria"
    assert web.client.get("/auditoria").status_code == 200
    assert web.client.get("/").headers["location"] == "/auditoria"
    assert web.client.get("/casos").status_code == 403
    assert web.client.get("/tramites/duplicado-dni").status_code == 403
    assert web.client.get("/prueba-operaciones").status_code == 403
    assert web.client.get("/ingresar").headers["location"] == "/auditoria"
    web.post("/salir", {})
    assert web.client.get("/auditoria").status_code == 303

    # An operator: sent to /operaciones; a page asked for on the way is kept.
    assert web.log_in(OPERATOR).headers["location"] == "/operaciones"
    assert web.client.get("/prueba-operaciones").json() == {"user": OPERATOR}
    assert web.client.get("/auditoria").status_code == 403
    web.post("/salir", {})
    back = web.client.post(
        "/ingresar",
        data={
            "csrf_token": web.csrf(),
            "usuario": OPERATOR,
            "contrasena": PASSWORD,
            "siguiente": "/prueba-operaciones",
        },
    )
    assert back.headers["location"] == "/prueba-operaciones"


def test_staff_logins_share_the_clerks_lockout(tmp_path: Path) -> None:
    web = pages(tmp_path)
    web.store.add_staff(AUDITOR, "auditor", PASSWORD)
    for _ in range(5):
        assert web.log_in(AUDITOR, "no-es-la-clave").status_code == 401
    locked = web.log_in(AUDITOR, PASSWORD)
    assert locked.status_code == 429
