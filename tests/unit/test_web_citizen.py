"""The citizen's status page and the live task list (fakes underneath)."""

import re
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from httpx import Response

from services.gateway.web.live import case_stream

from .web_pages import Pages, case_id_of, case_view, pages


@pytest.fixture
def web(tmp_path: Path) -> Pages:
    return pages(tmp_path)


def receipt_codes(web: Pages, case_id: UUID) -> tuple[str, str]:
    receipt = web.client.get(f"/casos/{case_id}/constancia").text
    code = re.search(r'id="constancia-caso">([^<]+)<', receipt)
    verification = re.search(r'id="constancia-verificacion">([^<]+)<', receipt)
    assert code
    assert verification
    return code.group(1), verification.group(1)


def submitted_case(web: Pages) -> tuple[UUID, str, str]:
    web.log_in()
    case_id = case_id_of(web.submit("citizen-1"))
    code, verification = receipt_codes(web, case_id)
    web.client.cookies.clear()  # the citizen's own browser
    return case_id, code, verification


def open_status(web: Pages, code: str, verification: str) -> Response:
    return web.post("/estado", {"codigo_caso": code, "codigo_verificacion": verification})


def test_the_receipts_codes_open_the_status_without_putting_them_in_a_url(web: Pages) -> None:
    case_id, code, verification = submitted_case(web)
    web.feed.record(
        case_view(
            case_id, "in_progress", {"pago-tasa": "completed", "duplicado-dni": "dispatched"}, 4
        )
    )
    answer = web.post("/estado", {"codigo_caso": code.lower(), "codigo_verificacion": verification})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/estado/caso"
    page = web.client.get("/estado/caso")
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert 'role="status"' in page.text
    assert "En curso" in page.text
    assert "Completado" in page.text  # the fee step
    assert "40000001" not in page.text


def test_the_status_page_speaks_quechua_when_asked(web: Pages) -> None:
    case_id, code, verification = submitted_case(web)
    web.feed.record(
        case_view(case_id, "completed", {"pago-tasa": "completed", "duplicado-dni": "completed"}, 6)
    )
    open_status(web, code, verification)
    switch = web.client.get("/idioma/qu?volver=/estado/caso")
    assert switch.status_code == 303
    assert switch.headers["location"] == "/estado/caso"
    page = web.client.get("/estado/caso")
    assert '<html lang="qu">' in page.text
    assert "Tukusqa" in page.text
    assert "Iskay kaq DNI ruway" in page.text


def test_the_language_switch_never_redirects_off_the_site(web: Pages) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil"):
        answer = web.client.get("/idioma/qu", params={"volver": target})
        assert answer.headers["location"] == "/"


def test_a_wrong_code_gets_one_message_and_no_data(web: Pages) -> None:
    _, code, verification = submitted_case(web)
    wrong_verification = open_status(web, code, "AAAAAAAA")
    unknown_case = open_status(web, "00000-00000", verification)
    for answer in (wrong_verification, unknown_case):
        assert answer.status_code == 404
        assert "Los códigos no corresponden a ningún caso." in answer.text
        assert "Tareas" not in answer.text
    assert wrong_verification.text.count("notice bad") == 1
    assert unknown_case.text.count("notice bad") == 1
    assert web.client.get("/estado/caso").status_code == 303  # nothing was opened


def test_wrong_codes_are_limited_per_client(web: Pages) -> None:
    _, code, verification = submitted_case(web)
    for _ in range(5):
        open_status(web, code, "AAAAAAAA")
    locked = open_status(web, code, verification)
    assert locked.status_code == 429
    assert "Hizo demasiados intentos" in locked.text


def test_the_live_stream_sends_each_new_version_and_closes_at_the_end(web: Pages) -> None:
    web.log_in()
    case_id = case_id_of(web.submit("live-1"))
    web.feed.record(
        case_view(
            case_id,
            "rejected",
            {
                "pago-tasa": "completed",
                "duplicado-dni": "rejected",
                "pago-tasa/compensation": "completed",
            },
            9,
        )
    )
    with web.client.stream("GET", f"/casos/{case_id}/eventos") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    events = re.findall(r"^event: (\w+)$", text, re.M)
    assert events == ["estado", "tareas", "fin"]
    assert "id: 9" in text
    assert "Devuelto" in text  # the fee, refunded
    assert "Rechazado" in text
    assert "No se pudo completar" in text  # the case


def test_another_counters_clerk_cannot_follow_the_case(web: Pages) -> None:
    web.log_in()
    case_id = case_id_of(web.submit("mine-1"))
    web.client.cookies.clear()
    web.log_in("asesor.pias-napo")
    assert web.client.get(f"/casos/{case_id}").status_code == 404
    assert web.client.get(f"/casos/{case_id}/eventos").status_code == 404


async def test_a_quiet_stream_keeps_alive_until_the_case_moves(tmp_path: Path) -> None:
    web = pages(tmp_path)
    case_id = uuid4()
    stream = case_stream(web.console.env, web.feed, case_id, keepalive=0.05)
    chunks = stream.body_iterator
    assert await anext(chunks) == "retry: 2000\n\n"
    assert await anext(chunks) == ": still here\n\n"  # nothing recorded yet
    web.feed.record(case_view(case_id, "in_progress", {"pago-tasa": "dispatched"}, 2))
    progress = await anext(chunks)
    assert "event: estado" in str(progress)
    assert "id: 2" in str(progress)
    await anext(chunks)  # its task list
    web.feed.record(
        case_view(case_id, "completed", {"pago-tasa": "completed", "duplicado-dni": "completed"}, 6)
    )
    rest = [str(chunk) async for chunk in chunks]
    assert "id: 6" in rest[0]
    assert rest[-1] == "event: fin\ndata: \n\n"
