"""Reads refused before their route ran (auth and permission failures) are recorded too."""

from pathlib import Path
from uuid import uuid4

from tests.fakes import gateway
from tests.http import auth
from tests.unit.web_pages import LIMA_NORTE, PASSWORD, pages


def test_the_api_records_reads_it_refuses_for_want_of_a_token_or_a_permission(
    tmp_path: Path,
) -> None:
    gw = gateway(tmp_path)
    case_id = uuid4()
    history = f"/v1/cases/{case_id}/history"
    assert gw.client.get(history, params={"purpose": "Curiosidad"}).status_code == 401
    assert gw.client.get(history, headers=auth("no-such-token")).status_code == 401
    assert gw.client.get(history, headers=auth("operator-token")).status_code == 403
    log = "/v1/citizens/40000001/access-log"
    assert gw.client.get(log, headers=auth("counter-token")).status_code == 403
    seen = [(r.reader_kind, r.reader_id, r.purpose, r.refused) for r in gw.bus.reads]
    assert seen == [
        ("unknown", "anonymous", "Curiosidad", True),
        ("unknown", "anonymous", None, True),
        ("operator", "operator", None, True),
        ("channel", "mac-lima-norte", None, True),
    ]
    assert all(r.request_id and r.service == "gateway" for r in gw.bus.reads)

    # A refusal the route records itself (a channel replaying) is recorded once.
    replay = gw.client.get(history, params={"version": 1}, headers=auth("counter-token"))
    assert replay.status_code == 403
    assert len(gw.bus.reads) == 5
    # Other refusals are no reads: nothing more is recorded.
    assert gw.client.get("/v1/operations/overview").status_code == 401
    assert len(gw.bus.reads) == 5


def test_the_pages_record_reads_refused_to_other_accounts_and_to_no_account(
    tmp_path: Path,
) -> None:
    web = pages(tmp_path)
    case_id = uuid4()
    page = f"/auditoria/casos/{case_id}"
    assert web.client.get(page, params={"proposito": "Ver"}).status_code == 303  # to log in
    web.log_in(LIMA_NORTE, PASSWORD)
    assert web.client.get(page, params={"proposito": "Ver"}).status_code == 403
    assert web.client.get(page + "/paquete").status_code == 403
    assert web.client.get("/auditoria/verificacion").status_code == 403  # reads no one's data
    seen = [(r.reader_kind, r.reader_id, r.purpose, r.service) for r in web.bus.reads]
    assert seen == [
        ("unknown", "anonymous", "Ver", "console"),
        ("clerk", LIMA_NORTE, "Ver", "console"),
        ("clerk", LIMA_NORTE, None, "console"),
    ]
    assert all(r.refused for r in web.bus.reads)


def test_only_auditors_record_a_read_as_restricted(tmp_path: Path) -> None:
    gw = gateway(tmp_path)
    log = "/v1/citizens/40000001/access-log"
    asked = {"purpose": "Investigación 2026-9", "restricted": "true"}
    assert gw.client.get(log, params=asked, headers=auth("auditor-token")).status_code == 200
    assert gw.bus.reads[-1].restricted
    case = f"/v1/cases/{uuid4()}/history"
    assert gw.client.get(case, params=asked, headers=auth("counter-token")).status_code == 403
    assert gw.bus.reads[-1].refused  # the channel's attempt, recorded as refused
    assert gw.client.get(log, params={"purpose": "Revisión"}, headers=auth("auditor-token"))
    assert not gw.bus.reads[-1].restricted


def test_an_auditor_page_read_can_be_restricted(tmp_path: Path) -> None:
    web = pages(tmp_path)
    web.store.add_staff("ana.cgr", "auditor", PASSWORD)
    web.log_in("ana.cgr", PASSWORD)
    case_id = uuid4()
    found = web.client.get(
        "/auditoria", params={"caso": str(case_id), "proposito": "Investigación", "reservada": "1"}
    )
    assert "reservada=1" in found.headers["location"]
    web.client.get(found.headers["location"])  # no such case: 404, but the read is recorded
    assert web.bus.reads[-1].restricted
    web.client.get(f"/auditoria/casos/{case_id}", params={"proposito": "Revisión"})
    assert not web.bus.reads[-1].restricted
