"""The MAC Express advisor at the site's own console, in a real browser, with the link cut.

The hub is the browser tests' `ventanilla up`, which writes the demo site's bundle
(`pias-napo`); the site is `ventanilla site up` on that bundle, linked through a proxy the test
cuts. The advisor signs in with the account `site up` made, takes a case while the link is
down, gets a receipt that says it waits to be forwarded, and once the link is back watches the
case reach its end on the same page, with no reload; the advisor's reads of the case reach the
citizen's access log at the hub.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from harness.up import UpStack
from services.sites.link import LinkProxy, link_proxy
from services.sites.site_stack import site_advisor
from tests.sites.harness import Site

from .conftest import check_page, fresh_page, log_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

DEMO_SITE = "pias-napo"
CITIZEN = "40000003"  # a DNI no other browser test uses: its access log is this test's alone
# Catch-up from the hub to a site can take tens of seconds once the link is back.
CATCH_UP_MS = 180_000


@pytest.fixture(scope="module")
def link(stack: UpStack) -> Iterator[LinkProxy]:
    assert stack.credentials.leafnode_url is not None
    port = urlsplit(stack.credentials.leafnode_url).port
    assert port is not None
    with link_proxy("127.0.0.1", port) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def site(
    stack: UpStack, link: LinkProxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    runner = Site(
        DEMO_SITE, tmp_path_factory.mktemp("site"), stack.data_dir / "sites" / DEMO_SITE, link.url
    )
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
async def site_page(browser: Browser, site: Site) -> AsyncIterator[Page]:
    async with fresh_page(browser, site.credentials.gateway_url) as opened:
        yield opened


async def test_the_advisor_takes_a_case_offline_and_sees_it_end_once_the_link_is_back(
    site_page: Page, site: Site, link: LinkProxy, stack: UpStack
) -> None:
    page = site_page
    link.cut()
    advisor = site_advisor(DEMO_SITE)
    await log_in(page, advisor, site.credentials.clerks[advisor].password)
    await expect(page.locator(".site-note")).to_contain_text("Sede MAC Express")
    # The site's own delegations: the vehicle transfer is not delegated at this MAC Express.
    await expect(page.locator("main")).to_contain_text("Sin delegación en esta sede")
    await check_page(page, "site-01-home")

    await page.get_by_role("link", name="Duplicado de DNI", exact=True).click()
    await page.get_by_label("DNI del ciudadano").fill(CITIZEN)
    await page.get_by_label("Pérdida").check()
    await page.get_by_role("button", name="Continuar").click()
    await page.get_by_role("button", name="Continuar a la vista previa del ciudadano").click()
    await page.get_by_role("button", name="El ciudadano acepta: enviar el caso").click()
    await page.wait_for_url(re.compile(r"/casos/[0-9a-f-]{36}$"))
    case_url = page.url

    # Offline: the case is kept at the site, and the page says it waits for the link.
    status = page.get_by_role("status")
    await expect(status).to_contain_text("Pendiente de envío")
    await expect(status).to_contain_text("cuando vuelva la conexión")
    await check_page(page, "site-02-case-pending")
    await page.goto(case_url + "/constancia")
    await expect(page.locator("dl.answers")).to_contain_text("Pendiente de envío")
    code = await page.locator("#constancia-caso").inner_text()
    await check_page(page, "site-03-receipt-pending")
    await page.goto("/casos?estado=pending_forward")
    await expect(page.locator("main table")).to_contain_text(code)
    await check_page(page, "site-04-my-cases-pending")
    assert [c["forwarded"] for c in await site.cases()] == [False]

    # The link comes back: the same page, never reloaded, reaches the case's end.
    await page.goto(case_url)
    await page.evaluate("window.notReloaded = true")
    link.restore()
    await expect(status).to_contain_text("Completado", timeout=CATCH_UP_MS)
    assert await page.evaluate("window.notReloaded === true"), "the page was reloaded"
    (case,) = await site.cases()
    assert (case["forwarded"], case["status"]) == (True, "completed")
    await page.goto("/casos")
    await expect(page.locator("main table")).to_contain_text("Completado")

    # The advisor's reads of the case at the site are in the citizen's access log at the hub.
    reads = await hub_reads(stack, CITIZEN, f"clerk:{advisor}")
    assert {r["action"] for r in reads} == {"case-view"}
    assert not any(r["refused"] for r in reads)


async def hub_reads(stack: UpStack, dni: str, reader: str) -> list[dict[str, Any]]:
    """The reads by `reader` in the citizen's access log at the hub, once there are some."""
    async with httpx.AsyncClient(
        base_url=stack.credentials.gateway_url,
        headers={"Authorization": f"Bearer {stack.credentials.auditor}"},
    ) as client:
        for _ in range(60):
            answer = await client.get(
                f"/v1/citizens/{dni}/access-log", params={"purpose": "Prueba de sede"}
            )
            assert answer.status_code == 200, answer.text
            reads = [r for r in answer.json()["reads"] if r["reader"] == reader]
            if reads:
                return reads
            await asyncio.sleep(1.0)
    raise AssertionError(f"no read by {reader} reached the hub's access log")


async def test_the_staff_pages_are_not_served_at_a_site(site_page: Page) -> None:
    """Audit and operations read the ledger, which is at the hub: a site has no such pages."""
    for path in ("/auditoria", "/operaciones"):
        answer = await site_page.goto(path)
        assert answer is not None, path
        assert answer.status == 404, path


def test_a_second_site_up_keeps_the_advisors_password(site: Site) -> None:
    """The advisor's password survives a restart of the site, like the hub's demo accounts."""
    advisor = site_advisor(DEMO_SITE)
    before = site.credentials.clerks[advisor].password
    site.stop()
    site.start()
    assert site.credentials.clerks[advisor].password == before
