"""The auditor's pages on the hand-written bus: what they read, what they record, what they show."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from schemas.queries import VerifyFinding
from schemas.views import CaseHistory, CitizenAccessLog, DataAccess, DataRead, HistoryEntry
from services.gateway.web.audit_timeline import PAGE_EVENTS, TimelineFilter, timeline
from tests.unit.web_pages import PASSWORD, Pages, case_view, pages

AUDITOR = "auditora.sgp"
PURPOSE = "Control interno: reclamo 2026-117"


def auditor_pages(tmp_path: Path) -> Pages:
    web = pages(tmp_path)
    web.store.add_staff(AUDITOR, "auditor", PASSWORD)
    assert web.log_in(AUDITOR).headers["location"] == "/auditoria"
    return web


def test_a_case_is_read_only_with_a_purpose_and_every_read_is_recorded(tmp_path: Path) -> None:
    web = auditor_pages(tmp_path)
    case_id = uuid4()
    web.bus.recorded[case_id] = case_view(case_id, "completed", {"pago-tasa": "completed"}, 5)

    found = web.client.get("/auditoria", params={"caso": str(case_id), "proposito": PURPOSE})
    assert found.status_code == 303
    no_purpose = web.client.get(f"/auditoria/casos/{case_id}")
    assert "Propósito de la consulta" in no_purpose.text
    assert web.bus.reads == []  # nothing read before the auditor says why

    page = web.client.get(found.headers["location"])
    assert page.status_code == 200, page.text
    assert "CaseSubmitted" in page.text
    (read,) = web.bus.reads
    assert (read.reader_kind, read.reader_id, read.purpose) == ("auditor", AUDITOR, PURPOSE)
    assert read.service == "console"
    assert read.request_id

    as_json = web.client.get(
        f"/auditoria/casos/{case_id}", params={"proposito": PURPOSE, "vista": "json"}
    )
    assert '"type": "CaseSubmitted"' in as_json.text.replace("&#34;", '"')
    replay = web.client.get(
        f"/auditoria/casos/{case_id}",
        params={"proposito": PURPOSE, "momento": "2026-12-01T08:00:00"},
    )
    assert replay.status_code == 200
    assert web.bus.replays[-1][1] == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # Lima is UTC-5

    bundle = web.client.get(f"/auditoria/casos/{case_id}/paquete", params={"proposito": PURPOSE})
    assert bundle.status_code == 200
    assert bundle.headers["content-disposition"] == f'attachment; filename="caso-{case_id}.json"'
    assert bundle.json()["case_id"] == str(case_id)
    assert web.bus.reads[-1].purpose == PURPOSE

    missing = web.client.get(f"/auditoria/casos/{uuid4()}", params={"proposito": PURPOSE})
    assert missing.status_code == 404


def test_the_verification_names_the_first_bad_event(tmp_path: Path) -> None:
    web = auditor_pages(tmp_path)
    assert "Íntegro" in web.client.get("/auditoria/verificacion?comprobar=1").text
    bad = str(uuid4())
    web.bus.damage = VerifyFinding(what="hash mismatch", position=7, case_id=bad, version=3)
    page = web.client.get("/auditoria/verificacion?comprobar=1").text
    assert "ALTERADO" in page
    assert bad in page
    assert "evento 3" in page
    assert "posición 7" in page


def test_the_access_log_is_newest_first_within_the_period_and_exports_csv(tmp_path: Path) -> None:
    web = auditor_pages(tmp_path)
    form = web.client.get("/auditoria/accesos").text
    today = datetime.now(UTC) - timedelta(hours=5)
    assert f'value="{today.date().isoformat()}"' in form  # the period is filled in
    now = datetime.now(UTC)
    case_id = uuid4()
    old = now - timedelta(days=400)

    def shared(when: datetime, to: str) -> DataAccess:
        return DataAccess(
            case_id=case_id,
            procedure="duplicado-dni",
            role="applicant",
            occurred_at=when,
            from_entity="reniec",
            from_step="verificacion",
            to_entity=to,
            to_step="emision",
            fields=["given_names"],
            purpose="Emitir el duplicado",
            legal_basis="DL 1211",
        )

    read = DataRead(
        occurred_at=now - timedelta(hours=1),
        action="case-history",
        reader="auditor:otra",
        from_entity="ventanilla",
        to_entity="sgp",
        service="gateway",
        purpose="Revisión",
        case_id=case_id,
    )
    web.bus.access_logs["40000001"] = CitizenAccessLog(
        entries=[shared(old, "antigua"), shared(now - timedelta(days=2), "migraciones")],
        reads=[read],
    )
    asked = {
        "dni": "40000001",
        "desde": (today - timedelta(days=30)).date().isoformat(),
        "hasta": today.date().isoformat(),
    }
    refused = web.post("/auditoria/accesos", {**asked, "proposito": ""})
    assert refused.status_code == 400
    assert web.bus.reads == []
    page = web.post("/auditoria/accesos", {**asked, "proposito": PURPOSE, "formato": "html"})
    assert page.status_code == 200, page.text
    assert "antigua" not in page.text  # outside the period
    assert page.text.index("auditor:otra") < page.text.index("migraciones")  # newest first
    assert web.bus.reads[-1].purpose == PURPOSE
    exported = web.post("/auditoria/accesos", {**asked, "proposito": PURPOSE, "formato": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["tipo"] for r in rows] == ["consulta", "intercambio"]
    assert rows[1]["base_legal"] == "DL 1211"
    assert not re.search(r"40000001", exported.text)


def test_the_timeline_filters_and_pages_thousands_of_events() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    events = [
        HistoryEntry(
            position=n,
            type="StepAttemptFailed" if n % 10 == 0 else "StepDispatched",
            occurred_at=start + timedelta(seconds=n),
            actor={"kind": "entity", "id": "reniec" if n % 2 else "sunarp"},
            data={"step_id": "paso", "entity": "reniec" if n % 2 else "sunarp"},
        )
        for n in range(1, 5001)
    ]
    history = CaseHistory(case_id=uuid4(), channel="mac-lima-norte", events=events)
    first = timeline(history, TimelineFilter(), 1)
    assert (first.total, first.pages, len(first.rows)) == (5000, 5000 // PAGE_EVENTS, PAGE_EVENTS)
    failures = timeline(history, TimelineFilter(failures_only=True), 1)
    assert failures.total == 500
    assert all(r.failure for r in failures.rows)
    sunarp = timeline(history, TimelineFilter(entity="sunarp", event_type="StepAttemptFailed"), 5)
    assert sunarp.total == 500
    assert sunarp.rows[0].entry.position == 4010
    later = timeline(history, TimelineFilter(), 50, later_than=4950)
    assert [r.later for r in later.rows].count(True) == 50
