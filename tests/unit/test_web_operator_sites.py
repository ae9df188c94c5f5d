"""The operators' MAC Express sites page on fakes: the table, no sites, a silent bus."""

import re
from datetime import UTC, datetime
from pathlib import Path

from schemas.sites import SiteLink
from services.gateway.case_bus import DependencyUnavailable
from tests.unit.web_pages import PASSWORD, Pages, pages

OPERATOR = "operador.noc"
CONTACT = datetime(2026, 12, 3, 15, 4, 5, tzinfo=UTC)  # 10:04:05 in Lima
FORWARD = datetime(2026, 12, 3, 14, 0, 0, tzinfo=UTC)  # 09:00:00 in Lima
NAPO = SiteLink(
    site="pias-napo",
    channel="mac-express-pias-napo",
    connected=True,
    last_contact=CONTACT,
    backlog=3,
    last_forward=FORWARD,
    forwarded=214,
)
ESTRECHO = SiteLink(
    site="tambo-estrecho",
    channel="mac-express-tambo-estrecho",
    connected=False,
    last_contact=None,
    backlog=0,
    last_forward=None,
    forwarded=0,
)


def operator_pages(tmp_path: Path) -> Pages:
    web = pages(tmp_path)
    web.store.add_staff(OPERATOR, "operator", PASSWORD)
    assert web.log_in(OPERATOR).status_code == 303
    return web


def cells(html: str) -> list[list[str]]:
    """The body rows of the page's table, each cell's text without its markup."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_each_site_shows_its_channel_link_times_in_lima_and_backlog(tmp_path: Path) -> None:
    web = operator_pages(tmp_path)

    async def links() -> list[SiteLink]:
        return [NAPO, ESTRECHO]

    web.console.site_links = links
    page = web.client.get("/operaciones/sedes")
    assert page.status_code == 200
    assert '<a href="/operaciones/sedes" aria-current="page">Sedes MAC Express</a>' in page.text
    assert "Sedes registradas: 2 · con el enlace caído: 1 · casos por reenviar: 3" in page.text
    assert cells(page.text) == [  # the cut-off site first
        ["tambo-estrecho", "mac-express-tambo-estrecho", "✖ Caído", "Sin contacto aún", "0",
         "Nunca", "0"],
        ["pias-napo", "mac-express-pias-napo", "✔ Activo", "03/12/2026 10:04:05", "3",
         "03/12/2026 09:00:00", "214"],
    ]  # fmt: skip


def test_a_hub_without_sites_says_so(tmp_path: Path) -> None:
    web = operator_pages(tmp_path)
    assert web.console.site_links is None
    page = web.client.get("/operaciones/sedes")
    assert page.status_code == 200
    assert "No hay sedes MAC Express registradas en este hub." in page.text
    assert "<table" not in page.text


def test_a_silent_bus_is_said_on_the_page_instead_of_a_table(tmp_path: Path) -> None:
    web = operator_pages(tmp_path)

    async def links() -> list[SiteLink]:
        raise DependencyUnavailable("nats", "TimeoutError")

    web.console.site_links = links
    page = web.client.get("/operaciones/sedes")
    assert page.status_code == 503
    assert "<h1>Sedes MAC Express</h1>" in page.text
    assert re.search(r'role="alert"><p>El bus no responde: ahora no se puede saber', page.text)
    assert "<table" not in page.text


def test_only_operators_open_the_sites_page(tmp_path: Path) -> None:
    web = pages(tmp_path)
    assert web.client.get("/operaciones/sedes").headers["location"] == (
        "/ingresar?siguiente=/operaciones/sedes"
    )
    web.log_in()  # a clerk
    assert web.client.get("/operaciones/sedes").status_code == 403
