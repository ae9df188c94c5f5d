"""The pieces under the pages: task states, languages, codes, limits, delegations, the store."""

import stat
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from schemas.delegations import delegation_for, delegations, delegations_at
from schemas.procedures import catalog
from schemas.views import StepView
from services.gateway.web import i18n
from services.gateway.web.counter_store import CounterStore, case_code_of, normal_case_code
from services.gateway.web.preview import flows
from services.gateway.web.security import (
    AttemptLimit,
    csrf_matches,
    csrf_token,
    verification_code,
    verification_matches,
)
from services.gateway.web.tasks import task_list, task_state

from .web_pages import case_view


def step(status: str) -> StepView:
    # model_construct: a status the bus may add later (e.g. "accepted") is not in the Literal yet.
    return StepView.model_construct(
        step_id="pago-tasa", entity="banco-nacion", service="pago-tasa", status=status, attempts=1
    )


@pytest.mark.parametrize(
    ("status", "final", "expected"),
    [
        (None, False, "waiting"),
        ("pending", False, "waiting"),
        ("dispatched", False, "in_progress"),
        ("accepted", False, "waiting_entity"),
        ("completed", False, "completed"),
        ("rejected", True, "refused"),
        ("failed", False, "in_progress"),  # a failed attempt is retried
        ("failed", True, "failed"),
        ("a-status-from-the-future", False, "in_progress"),
    ],
)
def test_each_bus_status_reads_as_a_plain_task_state(
    status: str | None, final: bool, expected: str
) -> None:
    assert task_state(step(status) if status else None, None, final) == expected


def test_a_refunded_fee_reads_as_refunded() -> None:
    view = case_view(
        uuid4(),
        "rejected",
        {
            "pago-tasa": "completed",
            "duplicado-dni": "rejected",
            "pago-tasa/compensation": "completed",
        },
        9,
    )
    tasks = task_list(catalog()["duplicado-dni"], view)
    assert [(t.step_id, t.state) for t in tasks.tasks] == [
        ("pago-tasa", "refunded"),
        ("duplicado-dni", "refused"),
    ]
    assert tasks.is_final
    assert all(t.mark for t in tasks.tasks)  # a shape besides the colour


def test_a_site_case_with_no_status_from_the_hub_reads_as_pending_forwarding() -> None:
    claimed = case_view(uuid4(), "submitted", {}, 0)  # the site's own claim: version 0
    at_site = task_list(catalog()["duplicado-dni"], claimed, at_site=True)
    assert (at_site.status, at_site.status_label) == ("pending_forward", "Pendiente de envío")
    assert "cuando vuelva la conexión" in at_site.next_steps
    # At the hub the same view is a case the ledger has not recorded yet: received.
    assert task_list(catalog()["duplicado-dni"], claimed).status_label == "Recibido"
    # Once the hub's first status came back, the site reads it as the hub does.
    back = case_view(uuid4(), "in_progress", {"pago-tasa": "dispatched"}, 2)
    assert task_list(catalog()["duplicado-dni"], back, at_site=True).status == "in_progress"


def test_the_page_language_comes_from_the_catalogs() -> None:
    with i18n.speaking("qu"):
        assert i18n.gettext("Completado") == "Tukusqa"
        assert i18n.current() == "qu"
    with i18n.speaking("fr"):  # not offered: Spanish
        assert i18n.current() == "es"
        assert i18n.gettext("Completado") == "Completado"


def test_every_quechua_entry_is_translated_and_marked_for_review() -> None:
    po = i18n.LOCALES_DIR / "qu" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        entries = [m for m in read_po(source) if m.id]
    assert entries
    untranslated = [m.id for m in entries if not m.string]
    assert untranslated == []
    unmarked = [m.id for m in entries if not any("REVISAR" in c for c in m.user_comments)]
    assert unmarked == []


def test_every_page_text_is_in_the_quechua_catalog() -> None:
    """What `make catalogs` would extract now: a text added to a page without running it would
    show in Spanish on a Quechua page."""
    web = i18n.LOCALES_DIR.parent
    with (web / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    texts = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(web, method_map, options_map, keywords)
    }
    po = i18n.LOCALES_DIR / "qu" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalogued = {m.id for m in read_po(source) if m.id}
    assert len(texts) > 300
    assert sorted(texts - catalogued) == []


def test_csrf_tokens_belong_to_their_cookie() -> None:
    key = b"k" * 32
    token = csrf_token(key, "cookie-a")
    assert csrf_matches(key, "cookie-a", token)
    assert not csrf_matches(key, "cookie-b", token)
    assert not csrf_matches(key, None, token)
    assert not csrf_matches(key, "cookie-a", None)
    assert not csrf_matches(b"x" * 32, "cookie-a", token)


def test_verification_codes_are_derived_per_case_and_typed_loosely() -> None:
    key, case_id = b"k" * 32, UUID(int=7)
    code = verification_code(key, case_id)
    assert len(code) == 8
    assert code == verification_code(key, case_id)
    assert code != verification_code(key, UUID(int=8))
    assert verification_matches(key, case_id, f" {code.lower()[:4]}-{code.lower()[4:]} ")
    assert not verification_matches(key, UUID(int=8), code)


def test_case_codes_survive_how_people_type_them() -> None:
    code = case_code_of(uuid4())
    assert len(code) == 11
    assert normal_case_code(code.lower().replace("-", " ")) == code


def test_attempts_are_limited_within_a_window() -> None:
    now = [0.0]
    limit = AttemptLimit(3, 60, clock=lambda: now[0])
    for _ in range(3):
        assert limit.wait("k") is None
        limit.failed("k")
    assert limit.wait("k") == 60
    assert limit.wait("other") is None
    now[0] = 61
    assert limit.wait("k") is None


def test_delegations_cover_procedures_at_channels() -> None:
    kiosk = delegations_at("mac-express-pias-napo")
    assert delegation_for(kiosk, "duplicado-dni", "mac-express-pias-napo") is not None
    assert delegation_for(kiosk, "pasaporte-electronico", "mac-express-pias-napo") is not None
    assert delegation_for(kiosk, "transferencia-vehicular", "mac-express-pias-napo") is None
    lima = delegations_at("mac-lima-norte")
    assert {p for d in lima for p in delegations()[d].procedures} == set(catalog())
    # A delegation only counts at its own channels.
    assert delegation_for(lima, "inscripcion-ruc", "mac-express-pias-napo") is None
    assert all(d.reference and d.instrument for d in delegations().values())


def test_the_preview_names_every_flow_the_ledger_will_record() -> None:
    passport = flows(catalog()["pasaporte-electronico"])
    assert {(f.from_entity, f.to_entity) for f in passport} == {
        ("reniec", "migraciones"),
        ("banco-nacion", "migraciones"),
    }
    reniec = next(f for f in passport if f.from_entity == "reniec")
    assert set(reniec.fields) == {"verification_code", "given_names", "surnames", "birth_date"}
    assert reniec.legal_bases == ("DL 1211",)
    assert flows(catalog()["inscripcion-ruc"])


def test_the_store_is_private_and_keeps_only_hashes(tmp_path: Path) -> None:
    path = tmp_path / "gateway" / "counter.sqlite"
    store = CounterStore(path)
    store.add("ana", "mac-lima-norte", ("convenio-reniec-014-2025",), "clave-secreta-1")
    token = store.open_session("ana")
    files = [path, *path.parent.glob(path.name + "-*")]  # with the write-ahead log
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    raw = b"".join(f.read_bytes() for f in files)
    assert b"clave-secreta-1" not in raw
    assert token.encode() not in raw
    assert b"$argon2id$" in raw
    assert store.session_clerk(token) is not None
    store.reset("ana", "otra-clave-2")
    assert store.session_clerk(token) is None  # a reset ends open sessions
    assert store.check_password("ana", "clave-secreta-1") is None
    assert store.check_password("ana", "otra-clave-2") is not None
    assert store.check_password("nobody", "otra-clave-2") is None
