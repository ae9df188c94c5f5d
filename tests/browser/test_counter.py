"""A clerk at the counter, in a real browser against the real stack."""

import re

import pytest
from playwright.async_api import Page, expect

from harness.up import UpStack
from schemas.cases import case_id_for
from services.credentials import DevCredentials

from .conftest import api_status, check_page, log_in

pytestmark = pytest.mark.browser

LIMA_NORTE, PIAS_NAPO = "asesor.lima-norte", "asesor.pias-napo"
FINAL_WAIT_MS = 90_000


async def open_procedure(page: Page, title: str) -> None:
    await page.goto("/")
    await page.get_by_role("link", name=title, exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)


async def to_preview(page: Page, check_as: str | None = None) -> None:
    """From the form through "check your answers" to the preview; `check_as`: the name under
    which the check page is checked with axe and saved."""
    await page.get_by_role("button", name="Continuar").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Revise las respuestas")
    if check_as is not None:
        await check_page(page, check_as)
    await page.get_by_role("button", name="Continuar a la vista previa del ciudadano").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Datos que el Estado obtendrá por usted"
    )


async def test_a_clerk_takes_each_reference_procedure_to_its_end_without_a_reload(
    page: Page, credentials: DevCredentials
) -> None:
    await page.goto("/")
    await check_page(page, "01-login")
    await log_in(page, LIMA_NORTE, credentials.clerks[LIMA_NORTE].password)
    await check_page(page, "02-home")

    procedures = [
        ("Duplicado de DNI", {"Pérdida": "radio"}, "duplicado-dni"),
        ("Pasaporte electrónico", {}, "pasaporte-electronico"),
        (
            "Transferencia vehicular",
            {
                "Placa del vehículo": "ABC-123",
                "DNI del vendedor": "40000007",
                "Precio de venta (soles)": "25000",
            },
            "transferencia-vehicular",
        ),
        (
            "Inscripción en el RUC",
            {"Código de actividad económica (CIIU)": "4711"},
            "inscripcion-ruc",
        ),
    ]
    for title, answers, code in procedures:
        await open_procedure(page, title)
        await page.get_by_label("DNI del ciudadano").fill("40000001")
        for label, value in answers.items():
            if value == "radio":
                await page.get_by_label(label).check()
            else:
                await page.get_by_label(label).fill(value)
        if code == "transferencia-vehicular":
            await check_page(page, "03-form-transferencia-vehicular")
        check_as = (
            "03b-check-transferencia-vehicular" if code == "transferencia-vehicular" else None
        )
        await to_preview(page, check_as)
        if code == "transferencia-vehicular":
            # The preview names what SUNARP gets from SAT, with purpose and legal basis.
            flows = page.locator(".flows")
            await expect(flows).to_contain_text("SAT Lima entregará a SUNARP")
            await expect(flows).to_contain_text("Decreto Legislativo 1211")
            await check_page(page, "04-preview-transferencia-vehicular")
        await page.get_by_role("button", name="El ciudadano acepta: enviar el caso").click()
        await page.wait_for_url(re.compile(r"/casos/[0-9a-f-]{36}$"))
        # A marker that a reload would wipe: the list must reach its end through SSE alone.
        await page.evaluate("window.notReloaded = true")
        status = page.get_by_role("status")
        await expect(status).to_contain_text("Completado", timeout=FINAL_WAIT_MS)
        tasks = page.locator("#tareas li")
        assert await tasks.count() >= 2
        for i in range(await tasks.count()):
            await expect(tasks.nth(i)).to_contain_text("Completado")
        assert await page.evaluate("window.notReloaded === true"), "the page was reloaded"
        if code == "transferencia-vehicular":
            await check_page(page, "05-case-completed-transferencia-vehicular")


async def test_the_task_list_moves_live_while_a_slow_case_runs(
    page: Page, credentials: DevCredentials
) -> None:
    """40000006's back offices fail once before answering: the case is still running when its
    page first shows, so reaching "Completado" can only come through the live stream."""
    await log_in(page, LIMA_NORTE, credentials.clerks[LIMA_NORTE].password)
    await open_procedure(page, "Duplicado de DNI")
    await page.get_by_label("DNI del ciudadano").fill("40000006")
    await page.get_by_label("Deterioro").check()
    await to_preview(page)
    await page.get_by_role("button", name="El ciudadano acepta: enviar el caso").click()
    await page.wait_for_url(re.compile(r"/casos/[0-9a-f-]{36}$"))
    await page.evaluate("window.notReloaded = true")
    first = await page.get_by_role("status").inner_text()
    assert "Completado" not in first, first
    await check_page(page, "05b-case-in-progress")
    await expect(page.get_by_role("status")).to_contain_text("Completado", timeout=FINAL_WAIT_MS)
    assert await page.evaluate("window.notReloaded === true"), "the page was reloaded"


async def test_a_form_shows_the_apis_field_problems_inline(
    page: Page, credentials: DevCredentials
) -> None:
    await log_in(page, LIMA_NORTE, credentials.clerks[LIMA_NORTE].password)
    await open_procedure(page, "Transferencia vehicular")
    await page.get_by_label("DNI del ciudadano").fill("4000")
    await page.get_by_label("Placa del vehículo").fill("ABC123")
    await page.get_by_role("button", name="Continuar").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Escriba los 8 dígitos del DNI")
    await expect(summary).to_contain_text("Escriba la placa como ABC-123.")
    await expect(summary).to_contain_text("Escriba los 8 dígitos del DNI del vendedor.")
    await expect(page.get_by_label("Placa del vehículo")).to_have_attribute("aria-invalid", "true")
    await check_page(page, "06-form-errors")


async def test_the_receipt_codes_open_the_citizen_page_in_spanish_and_quechua(
    page: Page, credentials: DevCredentials, stack: UpStack
) -> None:
    await log_in(page, LIMA_NORTE, credentials.clerks[LIMA_NORTE].password)
    await open_procedure(page, "Duplicado de DNI")
    await page.get_by_label("DNI del ciudadano").fill("40000001")
    await page.get_by_label("Robo").check()
    await to_preview(page)
    await page.get_by_role("button", name="El ciudadano acepta: enviar el caso").click()
    await expect(page.get_by_role("status")).to_contain_text("Completado", timeout=FINAL_WAIT_MS)
    await page.get_by_role("link", name="Ver e imprimir la constancia").click()
    case_code = (await page.locator("#constancia-caso").inner_text()).strip()
    verification = (await page.locator("#constancia-verificacion").inner_text()).strip()
    await expect(page.locator("main")).to_contain_text("Plazo de atención (ANS)")
    await check_page(page, "07-receipt")
    await page.goto("/casos")
    await expect(page.locator("tbody")).to_contain_text(case_code)
    await check_page(page, "08-my-cases")

    citizen = await page.context.browser.new_context(base_url=stack.credentials.gateway_url)  # type: ignore[union-attr]
    try:
        visitor = await citizen.new_page()
        await visitor.goto("/estado")
        await check_page(visitor, "09-status-form")
        await visitor.get_by_label("Código del caso").fill(case_code.lower())
        await visitor.get_by_label("Código de verificación").fill(verification)
        await visitor.get_by_role("button", name="Ver el estado").click()
        await visitor.wait_for_url(re.compile(r"/estado/caso$"))
        assert "40000001" not in visitor.url
        assert verification not in visitor.url
        await expect(visitor.get_by_role("status")).to_contain_text("Completado")
        await expect(visitor.locator("#tareas")).to_contain_text("Emisión del DNI duplicado")
        assert await visitor.locator("html").get_attribute("lang") == "es"
        await check_page(visitor, "10-status-es")

        await visitor.get_by_role("link", name="Runasimi").click()
        await visitor.wait_for_url(re.compile(r"/estado/caso$"))
        assert await visitor.locator("html").get_attribute("lang") == "qu"
        await expect(visitor.get_by_role("status")).to_contain_text("Tukusqa")
        await expect(visitor.locator("#tareas")).to_contain_text("Iskay kaq DNI ruway")
        await check_page(visitor, "11-status-qu")
    finally:
        await citizen.close()


async def test_a_wrong_code_shows_one_message_and_no_data(page: Page) -> None:
    await page.goto("/estado")
    await page.get_by_label("Código del caso").fill("00000-00000")
    await page.get_by_label("Código de verificación").fill("AAAAAAAA")
    await page.get_by_role("button", name="Ver el estado").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Los códigos no corresponden a ningún caso. Revise el código del caso y el código de "
        "verificación de su constancia."
    )
    assert await page.get_by_role("status").count() == 0
    assert await page.locator("#tareas").count() == 0
    await check_page(page, "12-status-wrong-code")


async def test_the_mac_express_advisor_is_refused_a_procedure_without_delegation(
    page: Page, credentials: DevCredentials
) -> None:
    await log_in(page, PIAS_NAPO, credentials.clerks[PIAS_NAPO].password)
    await expect(page.locator("main")).to_contain_text("Sin delegación en esta sede")
    await page.get_by_role("link", name="Transferencia vehicular", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Trámite no delegado")
    await expect(page.get_by_role("alert")).to_contain_text("mac-express-pias-napo")
    await check_page(page, "13-not-delegated")
    # The procedures delegated to the kiosk open their form.
    await open_procedure(page, "Pasaporte electrónico")


async def test_declining_the_preview_opens_no_case(
    page: Page, credentials: DevCredentials, stack: UpStack
) -> None:
    await log_in(page, LIMA_NORTE, credentials.clerks[LIMA_NORTE].password)
    await open_procedure(page, "Inscripción en el RUC")
    await page.get_by_label("DNI del ciudadano").fill("40000001")
    await page.get_by_label("Código de actividad económica (CIIU)").fill("4711")
    await to_preview(page)
    key = await page.locator("input[name=clave]").first.get_attribute("value")
    assert key
    await page.get_by_role("button", name="El ciudadano no acepta").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("No se abrió ningún caso")
    await check_page(page, "14-declined")
    assert await api_status(stack, case_id_for("mac-lima-norte", key)) == 404


async def test_logging_out_ends_the_session(page: Page, credentials: DevCredentials) -> None:
    await log_in(page, LIMA_NORTE, credentials.clerks[LIMA_NORTE].password)
    session = next(c for c in await page.context.cookies() if c["name"] == "ventanilla_sesion")
    await page.get_by_role("button", name="Cerrar sesión").click()
    await page.wait_for_url(re.compile(r"/ingresar"))
    await page.goto("/casos")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ingresar a la ventanilla")
    # The old cookie, replayed, opens nothing: the session ended on the server.
    await page.context.add_cookies([session])  # type: ignore[list-item]
    await page.goto("/casos")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ingresar a la ventanilla")


async def test_a_post_without_its_csrf_token_is_refused(
    page: Page, credentials: DevCredentials, stack: UpStack
) -> None:
    await log_in(page, LIMA_NORTE, credentials.clerks[LIMA_NORTE].password)
    form = {
        "clave": "csrf-test-1",
        "citizen.document_number": "40000001",
        "inputs.reason": "perdida",
        "consentimiento": "si",
    }
    answer = await page.request.post("/tramites/duplicado-dni/enviar", form=form, max_redirects=0)
    assert answer.status == 403
    assert "El formulario no es válido" in await answer.text()
    forged = await page.request.post(
        "/tramites/duplicado-dni/enviar", form={**form, "csrf_token": "0" * 64}, max_redirects=0
    )
    assert forged.status == 403
    assert await api_status(stack, case_id_for("mac-lima-norte", "csrf-test-1")) == 404
    login = await page.request.post(
        "/ingresar", form={"usuario": LIMA_NORTE, "contrasena": "x"}, max_redirects=0
    )
    assert login.status == 403
