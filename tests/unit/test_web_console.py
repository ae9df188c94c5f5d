"""The counter console over HTTP, as a browser without JavaScript uses it (fakes underneath)."""

import re
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from schemas.cases import case_id_for, submit_msg_id

from .web_pages import DUPLICADO, LIMA_NORTE, PASSWORD, PIAS_NAPO, Pages, case_id_of, pages


@pytest.fixture
def web(tmp_path: Path) -> Pages:
    return pages(tmp_path)


def test_the_console_asks_for_a_login_first(web: Pages) -> None:
    answer = web.client.get("/")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ingresar?siguiente=/"


def test_a_clerk_logs_in_with_a_session_cookie_the_page_scripts_cannot_read(web: Pages) -> None:
    answer = web.log_in()
    assert answer.status_code == 303
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("ventanilla_sesion=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP in this test; set behind TLS
    home = web.client.get("/")
    assert home.status_code == 200
    assert "Duplicado de DNI" in home.text


def test_a_wrong_password_is_refused_and_failures_are_limited(web: Pages) -> None:
    for _ in range(5):
        assert web.log_in(password="wrong").status_code == 401
    locked = web.log_in()  # even the right password waits now
    assert locked.status_code == 429
    assert "Demasiados intentos fallidos" in locked.text
    assert web.client.get("/").status_code == 303


def test_a_disabled_clerk_cannot_log_in_and_loses_open_sessions(web: Pages) -> None:
    assert web.log_in().status_code == 303
    web.store.disable(LIMA_NORTE)
    assert web.client.get("/").status_code == 303
    assert web.log_in().status_code == 401


def test_every_form_post_needs_its_csrf_token(web: Pages) -> None:
    web.log_in()
    for path in ("/ingresar", "/salir", "/tramites/duplicado-dni/enviar", "/estado"):
        answer = web.client.post(path, data={"clave": "k1", **DUPLICADO, "consentimiento": "si"})
        assert answer.status_code == 403, path
        assert "El formulario no es válido" in answer.text
    assert web.bus.published == []


def test_the_form_shows_the_apis_field_problems_in_spanish_beside_each_field(web: Pages) -> None:
    web.log_in()
    answer = web.post(
        "/tramites/transferencia-vehicular/revisar",
        {"clave": "k1", "citizen.document_number": "123", "inputs.plate": "abc"},
    )
    assert answer.status_code == 422
    assert 'id="citizen-document_number-error"' in answer.text
    assert "Escriba la placa como ABC-123." in answer.text
    assert "Escriba los 8 dígitos del DNI del vendedor." in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert web.bus.published == []


def test_check_your_answers_then_the_preview_lists_the_data_flows(web: Pages) -> None:
    web.log_in()
    answers = {
        "clave": "k1",
        "citizen.document_number": "40000001",
        "inputs.plate": "ABC-123",
        "inputs.seller_dni": "40000007",
        "inputs.price_pen": "25000",
    }
    check = web.post("/tramites/transferencia-vehicular/revisar", answers)
    assert check.status_code == 200
    assert "Revise las respuestas" in check.text
    assert "ABC-123" in check.text
    preview = web.post("/tramites/transferencia-vehicular/vista-previa", answers)
    assert "SAT Lima entregará a SUNARP" in preview.text
    assert "Acreditar que no hay deuda de impuesto vehicular" in preview.text
    assert "Decreto Legislativo 1211" in preview.text
    assert web.bus.published == []


def test_a_submission_records_the_clerk_the_delegation_and_the_consent(web: Pages) -> None:
    web.log_in()
    answer = web.submit("key-1")
    assert answer.status_code == 303
    case_id = case_id_of(answer)
    assert case_id == case_id_for("mac-lima-norte", "key-1")
    (command,) = web.bus.published
    assert command.envelope.actor.id == "mac-lima-norte"
    assert command.attendance is not None
    assert command.attendance.clerk == LIMA_NORTE
    assert command.attendance.delegation == "convenio-reniec-014-2025"
    assert command.attendance.consent.flows == [
        "banco-nacion/pago-tasa -> reniec/duplicado-dni: receipt_number"
    ]
    assert web.client.get(f"/casos/{case_id}").status_code == 200


def test_a_double_click_or_a_resent_form_opens_one_case(web: Pages) -> None:
    web.log_in()
    first, second = web.submit("key-2"), web.submit("key-2")
    assert first.headers["location"] == second.headers["location"]
    assert len(web.bus.stream) == 1  # the bus keeps one command for the key
    assert len(web.store.receipts_of(LIMA_NORTE)) == 1


def test_declining_the_preview_sends_nothing(web: Pages) -> None:
    web.log_in()
    answer = web.submit("key-3", consentimiento="no")
    assert answer.status_code == 200
    assert "No se abrió ningún caso" in answer.text
    assert web.bus.published == []
    assert web.store.receipts_of(LIMA_NORTE) == []


def test_a_clerk_without_the_delegation_is_refused_with_a_page_or_a_problem(web: Pages) -> None:
    web.log_in(PIAS_NAPO)
    page = web.client.get("/tramites/transferencia-vehicular")
    assert page.status_code == 403
    assert "Trámite no delegado" in page.text
    answers = {
        "clave": "k9",
        "citizen.document_number": "40000001",
        "inputs.plate": "ABC-123",
        "inputs.seller_dni": "40000007",
        "inputs.price_pen": "25000",
        "consentimiento": "si",
        "csrf_token": web.csrf(),
    }
    problem = web.client.post(
        "/tramites/transferencia-vehicular/enviar",
        data=answers,
        headers={"Accept": "application/problem+json"},
    )
    assert problem.status_code == 403
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert problem.json()["type"].endswith("/not-delegated")
    assert web.bus.published == []
    assert web.client.get("/tramites/pasaporte-electronico").status_code == 200


def test_logging_out_ends_the_session_on_the_server(web: Pages) -> None:
    web.log_in()
    token = web.client.cookies["ventanilla_sesion"]
    assert web.post("/salir", {}).status_code == 303
    web.client.cookies.set("ventanilla_sesion", token)
    assert web.client.get("/casos").status_code == 303


def test_clerk_ids_never_reach_the_logs_in_clear(web: Pages) -> None:
    with capture_logs() as logs:
        web.log_in()
        web.submit("key-4")
        web.log_in(password="wrong")
    text = repr(logs)
    assert LIMA_NORTE not in text
    assert PASSWORD not in text
    assert any(str(entry.get("clerk", "")).startswith("clerk-") for entry in logs)


def test_my_cases_filters_by_procedure_and_pages(web: Pages) -> None:
    web.log_in()
    for n in range(12):
        web.submit(f"many-{n}")
    first = web.client.get("/casos")
    assert len(re.findall(r'<a href="/casos/[0-9a-f-]{36}">', first.text)) == 10
    assert "pagina=2" in first.text
    second = web.client.get("/casos?pagina=2")
    rows = re.findall(r'<a href="/casos/[0-9a-f-]{36}">', second.text)
    assert len(rows) == 2
    none = web.client.get("/casos?tramite=inscripcion-ruc")
    assert "No hay casos con estos filtros." in none.text
    waiting = web.client.get("/casos?estado=completed")
    assert "No hay casos con estos filtros." in waiting.text


def test_the_receipt_gives_the_codes_and_the_ans_deadline(web: Pages) -> None:
    web.log_in()
    case_id = case_id_of(web.submit("key-5"))
    receipt = web.client.get(f"/casos/{case_id}/constancia")
    assert receipt.status_code == 200
    code = re.search(r'id="constancia-caso">([^<]+)<', receipt.text)
    verification = re.search(r'id="constancia-verificacion">([^<]+)<', receipt.text)
    assert code
    assert verification
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code.group(1))
    assert re.fullmatch(r"[A-Z2-9]{8}", verification.group(1))
    assert "Plazo de atención (ANS)" in receipt.text
    assert web.bus.stream[submit_msg_id(case_id)].citizen.document_number not in receipt.text


def test_behind_tls_every_cookie_is_secure(tmp_path: Path) -> None:
    web = pages(tmp_path)
    web.client.base_url = "https://testserver"  # type: ignore[assignment]
    first_page = web.client.get("/estado")
    answer = web.log_in()
    assert answer.status_code == 303
    cookies = first_page.headers.get_list("set-cookie") + answer.headers.get_list("set-cookie")
    assert {c.split("=")[0] for c in cookies} == {"ventanilla_csrf", "ventanilla_sesion"}
    assert all("Secure" in cookie for cookie in cookies)
