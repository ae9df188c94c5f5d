"""The essential path with the keyboard alone, with a focus ring always visible."""

import re

import pytest
from playwright.async_api import Page, expect

from services.credentials import DevCredentials

from .conftest import tab_to

pytestmark = pytest.mark.browser

LIMA_NORTE = "asesor.lima-norte"


async def test_a_clerk_submits_a_case_with_the_keyboard_alone(
    page: Page, credentials: DevCredentials
) -> None:
    await page.goto("/")
    await tab_to(page, "Saltar al contenido")
    await tab_to(page, "usuario")
    await page.keyboard.type(LIMA_NORTE)
    await page.keyboard.press("Tab")
    await page.keyboard.type(credentials.clerks[LIMA_NORTE].password)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Elegir un trámite")

    await tab_to(page, "Pasaporte electrónico")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pasaporte electrónico")
    await tab_to(page, "citizen-document_number")
    await page.keyboard.type("40000001")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Revise las respuestas")
    await tab_to(page, "Continuar a la vista previa del ciudadano")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Datos que el Estado obtendrá por usted"
    )
    await tab_to(page, "El ciudadano acepta: enviar el caso")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/casos/[0-9a-f-]{36}$"))
    await expect(page.get_by_role("status")).to_contain_text("Completado", timeout=90_000)
