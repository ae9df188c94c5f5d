"""The operator's pages under /operaciones against this module's own `ventanilla up`: the health
cards, the traffic with its filters, table and CSVs, the savings, the MAC Express sites (the demo
site pias-napo, registered but never started), axe-core with no WCAG 2.2 A/AA violation, the
keyboard.

Cases run first over the API (40000001 completes, 40000002 is refused by RENIEC), so the figures
the pages show are checked against what the API's own indicators say.
"""

import asyncio
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Page, expect

from harness.up import UpStack, ventanilla_up
from schemas import subjects
from services.bus.connection import connect
from services.bus.permissions import ADMIN
from services.cli.options import bus_login
from services.credentials import DevCredentials
from tests.http import body

from .conftest import check_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpStack]:
    """This module's own stack: its figures count only the cases its tests run."""
    with ventanilla_up(tmp_path_factory.mktemp("operations")) as up:
        yield up


@pytest.fixture(scope="module")
def credentials(stack: UpStack) -> DevCredentials:
    return stack.credentials


OPERATOR = "operador.mac"
FOCUSED = "document.activeElement"


async def run_cases(stack: UpStack, dnis: list[str]) -> None:
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(
        base_url=stack.credentials.gateway_url, headers=headers, timeout=10
    ) as http:
        ids = []
        for dni in dnis:
            answer = await http.post(
                "/v1/cases", json=body(dni), headers={"Idempotency-Key": str(uuid4())}
            )
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["case_id"])
        async with asyncio.timeout(60):
            for case_id in ids:
                while (await http.get(f"/v1/cases/{case_id}")).json()["status"] not in (
                    "completed",
                    "rejected",
                ):
                    await asyncio.sleep(0.2)


async def log_in_operator(page: Page, credentials: DevCredentials, where: str) -> None:
    await page.goto(where)  # no session: to the login page, and back here afterwards
    await page.get_by_label("Usuario").fill(OPERATOR)
    await page.get_by_label("Contraseña").fill(credentials.operators[OPERATOR].password)
    await page.get_by_role("button", name="Ingresar").click()


async def tab_to(page: Page, element_id: str, tabs: int = 60) -> None:
    """Press Tab until the control with this id has the focus, its focus ring visible."""
    for _ in range(tabs):
        await page.keyboard.press("Tab")
        outline = await page.evaluate(f"getComputedStyle({FOCUSED}).outlineStyle")
        assert outline != "none", await page.evaluate(f"{FOCUSED}.outerHTML")
        if await page.evaluate(f"{FOCUSED}.id") == element_id:
            return
    raise AssertionError(f"no control #{element_id} within {tabs} tabs")


async def test_operator_pages(page: Page, stack: UpStack, credentials: DevCredentials) -> None:
    await run_cases(stack, ["40000001", "40000002", "40000001"])

    # Health cards: every adapter up (its heartbeat heard), in text and icon.
    await log_in_operator(page, credentials, "/operaciones")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Salud de las entidades")
    reniec = page.locator("li.card", has=page.get_by_role("heading", name="RENIEC"))
    async with asyncio.timeout(30):  # heartbeats come every 5 s; the gateway hears them from start
        while "Adaptador en servicio" not in (await reniec.inner_text()):
            await asyncio.sleep(1)
            await page.reload()
    await expect(page.locator("li.card")).to_have_count(6)
    card = await reniec.inner_text()
    assert "Cartas muertas" in card
    assert "ANS esta semana" in card
    assert "100.0 %" in card  # RENIEC answered every step in time this week
    # RENIEC's adapter handled the cases: its last activity is a time (Lima's), not "ninguna".
    activity = reniec.locator("dt:text-is('Última actividad') + dd")
    await expect(activity).to_have_text(re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$"))
    await check_page(page, "operaciones-salud")

    # In Quechua: the same page, its texts from the Quechua catalog.
    await page.get_by_role("link", name="Runasimi").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Entidadkunaq qhaliyninkuna")
    assert await page.locator("html").get_attribute("lang") == "qu"
    await check_page(page, "operaciones-salud-qu")
    await page.get_by_role("link", name="Español").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Salud de las entidades")

    # The API's indicators of the same 7 days, to compare the pages with.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    period = {"from": (today - timedelta(days=6)).isoformat(), "to": datetime.now(UTC).isoformat()}
    async with httpx.AsyncClient(base_url=credentials.gateway_url) as http:
        api = await http.get(
            "/v1/indicators",
            params=period,
            headers={"Authorization": f"Bearer {credentials.operator}"},
        )
    assert api.status_code == 200, api.text
    steps: Counter[str] = Counter()
    for row in api.json()["step_days"]:
        if row["entity"] == "reniec":
            steps[row["outcome"]] += row["steps"]
    assert steps["completed"] == 2
    assert steps["rejected"] == 1

    # Traffic, filtered with the keyboard alone: RENIEC's requests, rejected ones only.
    await page.get_by_role("link", name="Tráfico e indicadores").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tráfico e indicadores")
    await check_page(page, "operaciones-trafico")
    await tab_to(page, "entidad")
    await page.keyboard.type("RENIEC")
    await tab_to(page, "resultado")
    await page.keyboard.type("rechazadas")
    await tab_to(page, "filtrar")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(
        "/operaciones/trafico?entidad=reniec&tramite=&resultado=rejected"
    )
    table = page.get_by_role("table", name="Solicitudes por día y resultado")
    today_row = table.get_by_role("row").last
    cells = await today_row.get_by_role("cell").all_inner_texts()
    # Columns: completed, rejected, failed, open, total; filtered to rejected ones.
    assert cells == ["0", str(steps["rejected"]), "0", "0", str(steps["rejected"])]
    await expect(page.locator("svg[role=img] title")).to_contain_text("tabla")
    await check_page(page, "operaciones-trafico-filtrado")

    # The CSVs behind the links, downloaded with the operator's session.
    ans = await page.request.get("/operaciones/ans.csv")
    assert ans.ok
    lines = list(csv.DictReader(io.StringIO(await ans.text())))
    reniec_lines = [r for r in lines if r["entity"] == "reniec"]
    assert sum(int(r["steps"]) for r in reniec_lines) == 3
    indicators = await page.request.get("/operaciones/indicadores.csv")
    assert indicators.ok
    rows = list(csv.DictReader(io.StringIO(await indicators.text())))
    refused = [r for r in rows if r["section"] == "rejection" and r["entity"] == "reniec"]
    assert [r["value"] for r in refused] == ["1"]
    rejection_table = page.get_by_role(
        "table", name="Motivos de rechazo, del más frecuente al menos"
    )
    await expect(rejection_table).to_contain_text("la entidad denegó")
    # Savings: the two completed duplicates spared the bank's receipt each; the refused one none.
    savings = page.get_by_role("table", name="Ahorro por canal y trámite")
    api_savings = [s for s in api.json()["savings"] if s["procedure"] == "duplicado-dni"]
    assert [(s["cases"], s["not_counted"]) for s in api_savings] == [(2, 1)]
    cells = await savings.get_by_role("row").nth(1).get_by_role("cell").all_inner_texts()
    assert cells[2:7] == ["2", "1", str(api_savings[0]["documents"]), "2", "2"]
    await expect(page.get_by_text("supuestos de demostración")).to_be_visible()


async def test_the_sites_page_shows_the_demo_site_as_the_api_does(
    page: Page, credentials: DevCredentials
) -> None:
    async with httpx.AsyncClient(base_url=credentials.gateway_url) as http:
        api = await http.get(
            "/v1/operations/overview",
            headers={"Authorization": f"Bearer {credentials.operator}"},
        )
    assert api.status_code == 200, api.text
    # `ventanilla up` registers pias-napo; no site process runs, so its link never came up.
    (napo,) = api.json()["sites"]
    assert napo["site"] == "pias-napo"
    assert (napo["connected"], napo["last_contact"], napo["last_forward"]) == (False, None, None)

    await log_in_operator(page, credentials, "/operaciones")
    await page.get_by_role("link", name="Sedes MAC Express").click()
    await expect(page).to_have_url("/operaciones/sedes")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sedes MAC Express")
    table = page.get_by_role("table", name="Enlace de cada sede, primero las de enlace caído")
    headers = await table.get_by_role("columnheader").all_inner_texts()
    assert headers == [
        "Sede",
        "Canal",
        "Enlace",
        "Último contacto",
        "Casos por reenviar",
        "Último reenvío",
        "Casos recibidos",
    ]
    row = table.get_by_role("row").nth(1)
    await expect(row.get_by_role("rowheader")).to_have_text("pias-napo")
    cells = await row.get_by_role("cell").all_inner_texts()
    assert cells == [
        "mac-express-pias-napo",
        "✖ Caído",
        "Sin contacto aún",
        str(napo["backlog"]),
        "Nunca",
        str(napo["forwarded"]),
    ]
    await expect(page.get_by_text("Sedes registradas: 1 · con el enlace caído: 1")).to_be_visible()
    await check_page(page, "operaciones-sedes")

    # In Quechua: the same table, its texts from the Quechua catalog.
    await page.get_by_role("link", name="Runasimi").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("MAC Express sedekuna")
    assert await page.locator("html").get_attribute("lang") == "qu"
    await expect(page.get_by_role("table").get_by_role("row").nth(1)).to_contain_text(
        "mac-express-pias-napo"
    )
    await check_page(page, "operaciones-sedes-qu")
    await page.get_by_role("link", name="Español").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sedes MAC Express")


async def file_a_dead_letter(stack: UpStack, msg_id: str) -> None:
    """A request SAT's adapter cannot read: it files it as a dead letter and goes on."""
    login = bus_login(ADMIN, stack.data_dir, None, None)
    nc = await connect(stack.credentials.nats_url, "test-operator-pages", login=login)
    try:
        js = nc.jetstream()
        before = (await js.stream_info(subjects.DEAD_LETTERS_STREAM)).state.messages
        await js.publish(
            subjects.work("sat", "certificado-no-adeudo"),
            b'{"plate": "ABC-123"',
            headers={"Nats-Msg-Id": msg_id},
        )
        async with asyncio.timeout(30):
            while (await js.stream_info(subjects.DEAD_LETTERS_STREAM)).state.messages == before:
                await asyncio.sleep(0.1)
    finally:
        await nc.close()


async def test_dead_letters_are_redriven_once_behind_a_typed_confirmation(
    page: Page, stack: UpStack, credentials: DevCredentials
) -> None:
    await file_a_dead_letter(stack, f"garbage-{uuid4()}")
    await log_in_operator(page, credentials, "/operaciones/cartas-muertas?origen=sat")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Cartas muertas")
    rows = page.get_by_role("table").get_by_role("row")
    await expect(rows).to_have_count(2)  # the header and SAT's one letter
    letter = rows.nth(1)
    await expect(letter).to_contain_text("[19 bytes, not JSON]")
    assert "ABC-123" not in await page.content()  # the payload is never shown
    await check_page(page, "operaciones-cartas-muertas")

    # Without the typed confirmation nothing is sent.
    await letter.get_by_role("checkbox").check()
    await page.get_by_label("Motivo del reenvío").fill("se corrigió el adaptador")
    await page.get_by_label("Escriba REENVIAR para confirmar").fill("reenviar?")
    await page.get_by_role("button", name="Reenviar las cartas marcadas").click()
    await expect(page.get_by_role("alert")).to_contain_text("Escriba REENVIAR para confirmar.")
    await check_page(page, "operaciones-cartas-muertas-error")

    # With it: redriven, recorded with the operator and the reason, and not offered again.
    await page.get_by_label("Escriba REENVIAR para confirmar").fill("REENVIAR")
    await page.get_by_role("button", name="Reenviar las cartas marcadas").click()
    await expect(page.get_by_role("status")).to_contain_text("reenviada")
    await page.goto("/operaciones/cartas-muertas?origen=sat")
    redriven = page.get_by_role("row", name=re.compile("se corrigió el adaptador"))
    await expect(redriven).to_contain_text(OPERATOR)
    await expect(redriven.get_by_role("checkbox")).to_have_count(0)
    # SAT still cannot read the same bytes: it files them again, as a new letter.
    async with asyncio.timeout(30):
        while await rows.count() < 3:
            await asyncio.sleep(0.5)
            await page.reload()
    await check_page(page, "operaciones-cartas-muertas-reenviada")


async def test_a_clerk_may_not_open_the_operator_pages(
    page: Page, credentials: DevCredentials
) -> None:
    clerk = next(iter(credentials.clerks))
    await page.goto("/operaciones")
    await page.get_by_label("Usuario").fill(clerk)
    await page.get_by_label("Contraseña").fill(credentials.clerks[clerk].password)
    await page.get_by_role("button", name="Ingresar").click()
    await page.goto("/operaciones")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Página no disponible para su cuenta"
    )
