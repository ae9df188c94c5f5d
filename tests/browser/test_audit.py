"""An auditor at /auditoria, in a real browser against the real stack (its ledger included).

One case is submitted over the API and taken to its end; the auditor then finds it, reads its
timeline (filters, JSON view, "as of" a moment), downloads its bundle, verifies the ledger and
reads the citizen's access log, where the auditor's own reads show up with their purpose.
"""

import csv
import io
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Page, expect

from harness.up import UpStack
from services.credentials import DevCredentials
from services.gateway.web.console import LIMA

from .conftest import check_page, tab_to

pytestmark = pytest.mark.browser

AUDITOR = "auditor.sgp"
DNI = "40000001"
PURPOSE = "Control interno: reclamo 2026-117"
FINAL = {"completed", "rejected"}


@pytest.fixture(scope="module")
def final_case(stack: UpStack) -> dict[str, Any]:
    """A duplicado-dni case of DNI, submitted over the API and finished, with its history."""
    headers = {"Authorization": f"Bearer {stack.token}"}
    with httpx.Client(base_url=stack.credentials.gateway_url, timeout=10.0) as client:
        created = client.post(
            "/v1/cases",
            json={
                "procedure": "duplicado-dni",
                "citizen": {"document_type": "DNI", "document_number": DNI},
                "inputs": {"reason": "perdida"},
            },
            headers={**headers, "Idempotency-Key": str(uuid4())},
        )
        assert created.status_code == 202, created.text
        case_id = created.json()["case_id"]
        deadline = time.monotonic() + 90
        while client.get(f"/v1/cases/{case_id}", headers=headers).json()["status"] not in FINAL:
            assert time.monotonic() < deadline, f"case {case_id} did not finish"
            time.sleep(0.5)
        history = client.get(
            f"/v1/cases/{case_id}/history",
            params={"purpose": "Preparar la prueba del auditor"},
            headers={"Authorization": f"Bearer {stack.credentials.auditor}"},
        )
    assert history.status_code == 200, history.text
    found: dict[str, Any] = history.json()
    return found


async def log_in_as_auditor(page: Page, credentials: DevCredentials) -> None:
    await page.goto("/auditoria")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ingresar a la ventanilla")
    await page.get_by_label("Usuario").fill(AUDITOR)
    await page.get_by_label("Contraseña").fill(credentials.auditors[AUDITOR].password)
    await page.get_by_role("button", name="Ingresar").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Auditoría: buscar un caso")


async def test_an_auditor_reads_a_case_its_evidence_and_the_citizens_access_log(
    page: Page, credentials: DevCredentials, final_case: dict[str, Any], tmp_path: Path
) -> None:
    case_id = final_case["case_id"]
    events = final_case["events"]
    await log_in_as_auditor(page, credentials)
    await check_page(page, "audit-01-home")
    await page.get_by_role("link", name="Runasimi").click()  # the same page, in Quechua
    await expect(page.get_by_role("heading", level=1)).to_have_text("Auditoría: kasuta maskay")
    assert await page.locator("html").get_attribute("lang") == "qu"
    await check_page(page, "audit-01-home-qu")
    await page.get_by_role("link", name="Español").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Auditoría: buscar un caso")

    # A purpose is asked for before anything is read.
    await page.get_by_label("Identificador del caso").fill(case_id)
    await page.get_by_role("button", name="Ver el caso").click()
    await expect(page.get_by_role("alert")).to_contain_text("Diga para qué consulta el caso")
    await check_page(page, "audit-02-home-errors")
    await page.get_by_label("Propósito de la consulta").fill(PURPOSE)
    await page.get_by_role("button", name="Ver el caso").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Historial del caso")
    table = page.locator("table.events tbody tr")
    await expect(table).to_have_count(len(events))
    await expect(table.first).to_contain_text("CaseSubmitted")
    shared = page.locator("table.events tbody tr", has_text="DataShared").first
    await expect(shared).to_contain_text("Base legal")
    await check_page(page, "audit-03-timeline")

    # Filters: one event type; then failures only (a finished duplicado has few or none).
    await page.get_by_label("Tipo de evento").select_option("DataShared")
    await page.get_by_role("button", name="Aplicar").click()
    shared_count = sum(1 for e in events if e["type"] == "DataShared")
    await expect(table).to_have_count(shared_count)
    await page.get_by_label("Tipo de evento").select_option("")
    await page.get_by_label("Solo fallos").check()
    await page.get_by_role("button", name="Aplicar").click()
    failures = [e for e in events if "Failed" in e["type"] or "Rejected" in e["type"]]
    if failures:
        await expect(table).to_have_count(len(failures))
    else:
        await expect(page.get_by_text("No hay eventos con estos filtros.")).to_be_visible()
    await page.get_by_label("Solo fallos").uncheck()

    # The JSON view shows each event whole.
    await page.get_by_label("JSON").check()
    await page.get_by_role("button", name="Aplicar").click()
    await expect(page.locator(".events-json pre")).to_have_count(len(events))
    first = json.loads(await page.locator(".events-json pre").first.inner_text())
    assert first["type"] == "CaseSubmitted"
    await check_page(page, "audit-04-json")

    # As of a moment between two events (a case runs in about a second: to the millisecond),
    # the state then, and the later events greyed.
    await page.get_by_label("Compacta").check()
    times = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    gap = next(
        i for i in range(len(times) - 1) if times[i + 1] - times[i] >= timedelta(milliseconds=3)
    )
    after = times[gap] + timedelta(milliseconds=1)
    cut = after.replace(microsecond=after.microsecond // 1000 * 1000)  # still after event `gap`
    later = [e for e, t in zip(events, times, strict=True) if t > cut]
    assert later, "the moment chosen leaves later events to grey"
    await page.get_by_label("Ver el caso a un momento (hora de Lima)").fill(
        cut.astimezone(LIMA).replace(tzinfo=None).isoformat(timespec="milliseconds")
    )
    await page.get_by_role("button", name="Aplicar").click()
    await expect(page.get_by_role("heading", level=2, name="El caso al")).to_be_visible()
    await expect(page.locator("table.events tbody tr.later")).to_have_count(len(later))
    await check_page(page, "audit-05-as-of")

    # The evidence bundle, as `audit export` writes it.
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Descargar el paquete de evidencia (JSON)").click()
    download = await download_info.value
    saved = tmp_path / "bundle.json"
    await download.save_as(saved)
    bundle = json.loads(saved.read_text())
    assert len(bundle["events"]) == len(events)
    assert bundle["case_head"]["final"] is True

    # The ledger verified.
    await page.get_by_role("link", name="Verificar el registro").click()
    await page.get_by_role("button", name="Verificar ahora").click()
    await expect(page.get_by_role("status")).to_contain_text("Íntegro")
    await check_page(page, "audit-06-verify")

    # The citizen's access log: the period filled in, newest first, the auditor's reads in it.
    await page.get_by_role("link", name="Registro de accesos").click()
    await expect(page.get_by_label("Hasta")).not_to_have_value("")
    await expect(page.get_by_label("Desde")).not_to_have_value("")
    await check_page(page, "audit-07-access-form")
    await page.get_by_label("DNI del ciudadano").fill(DNI)
    await page.get_by_label("Propósito de la consulta").fill(PURPOSE)
    await page.get_by_role("button", name="Ver el registro").click()
    rows = page.locator("table tbody tr")
    await expect(rows.first).to_be_visible()
    mine = rows.filter(has_text=f"auditor:{AUDITOR}")
    await expect(mine.first).to_contain_text(PURPOSE)
    assert await rows.filter(has_text="Intercambio").count() >= shared_count
    await check_page(page, "audit-08-access-log")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Descargar CSV").click()
    exported = tmp_path / "accesos.csv"
    await (await download_info.value).save_as(exported)
    lines = list(csv.DictReader(io.StringIO(exported.read_text())))
    times = [line["fecha_utc"] for line in lines]
    assert times == sorted(times, reverse=True)
    assert any(line["accion"] == "bundle-export" and line["proposito"] == PURPOSE for line in lines)
    assert DNI not in exported.read_text()


async def test_an_auditor_finds_a_case_with_the_keyboard_alone_and_a_clerk_is_kept_out(
    page: Page, credentials: DevCredentials, final_case: dict[str, Any]
) -> None:
    await page.goto("/auditoria")
    await tab_to(page, "Saltar al contenido")
    await tab_to(page, "usuario")
    await page.keyboard.type(AUDITOR)
    await page.keyboard.press("Tab")
    await page.keyboard.type(credentials.auditors[AUDITOR].password)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Auditoría: buscar un caso")
    await tab_to(page, "caso")
    await page.keyboard.type(final_case["case_id"])
    await tab_to(page, "proposito")
    await page.keyboard.type(PURPOSE)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Historial del caso")
    await tab_to(page, "Descargar el paquete de evidencia (JSON)")
    await tab_to(page, "Aplicar")
    await page.get_by_role("button", name="Cerrar sesión").click()

    clerk = "asesor.lima-norte"
    await page.get_by_label("Usuario").fill(clerk)
    await page.get_by_label("Contraseña").fill(credentials.clerks[clerk].password)
    await page.get_by_role("button", name="Ingresar").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Elegir un trámite")
    refused = await page.goto("/auditoria")
    assert refused is not None
    assert refused.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Página no disponible para su cuenta"
    )
    await check_page(page, "audit-09-clerk-refused")
