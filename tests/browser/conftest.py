"""Browser tests: Debian's Chromium, driven by Playwright, against `ventanilla up` on free ports.

No browser can be downloaded here, so Playwright drives /usr/bin/chromium (`make test` installs
it with apt when missing). A missing browser fails every test loudly; nothing is skipped.
Each page a test visits is checked with axe-core and saved as a screenshot under
test-artifacts/browser/ (no pixel comparison: another Chromium build renders slightly apart).
"""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright, expect

from harness.up import UpStack, ventanilla_up
from services.credentials import DevCredentials

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
_axe = Axe()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpStack]:
    with ventanilla_up(tmp_path_factory.mktemp("browser")) as up:
        yield up


@pytest.fixture(scope="session")
def credentials(stack: UpStack) -> DevCredentials:
    return stack.credentials


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, or a loud failure (never a skip) saying how to install it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
            "(`make test` installs it: apt-get update && apt-get install -y chromium)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=LAUNCH_FLAGS
        )
        yield launched
        await launched.close()


@asynccontextmanager
async def fresh_page(browser: Browser, base_url: str) -> AsyncIterator[Page]:
    """A page in a fresh browser context (no cookies) on a gateway."""
    context = await browser.new_context(
        base_url=base_url, locale="es-PE", viewport={"width": 1100, "height": 900}
    )
    context.set_default_timeout(15_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
async def page(browser: Browser, stack: UpStack) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) opened on the stack's gateway."""
    async with fresh_page(browser, stack.credentials.gateway_url) as opened:
        yield opened


FOCUSED = "document.activeElement"


async def tab_to(page: Page, accessible_text: str, tabs: int = 40) -> None:
    """Press Tab until the focused control has this text (or id), checking each focus ring."""
    for _ in range(tabs):
        await page.keyboard.press("Tab")
        outline = await page.evaluate(f"getComputedStyle({FOCUSED}).outlineStyle")
        assert outline != "none", await page.evaluate(f"{FOCUSED}.outerHTML")
        text = await page.evaluate(
            f"({FOCUSED}.innerText || {FOCUSED}.value || '') + '|' + {FOCUSED}.id"
        )
        if accessible_text in text.split("|"):
            return
    raise AssertionError(f"no control {accessible_text!r} within {tabs} tabs")


async def check_page(page: Page, name: str) -> None:
    """axe-core finds no WCAG 2.2 A/AA violation, and the page is saved as a screenshot."""
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    results = await _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


async def log_in(page: Page, user: str, password: str) -> None:
    await page.goto("/")
    await page.get_by_label("Usuario").fill(user)
    await page.get_by_label("Contraseña").fill(password)
    await page.get_by_role("button", name="Ingresar").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Elegir un trámite")


async def api_status(stack: UpStack, case_id: UUID) -> int:
    """What the bearer-token API answers for a case of mac-lima-norte: 200, or 404 if none."""
    async with httpx.AsyncClient(base_url=stack.credentials.gateway_url) as client:
        answer = await client.get(
            f"/v1/cases/{case_id}", headers={"Authorization": f"Bearer {stack.token}"}
        )
    return answer.status_code
