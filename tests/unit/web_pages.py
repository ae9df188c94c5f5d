"""The gateway with its pages on hand-written fakes, and what a browser does with them."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from httpx import Response

from schemas.views import CaseView, StepView
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.web.console import WebConsole
from services.gateway.web.counter_store import CounterStore
from tests.fakes import TOKENS, FakeCaseBus, FakeStatusFeed, write_tokens

LIMA_NORTE, PIAS_NAPO = "asesor.lima-norte", "asesor.pias-napo"
PASSWORD = "una-clave-larga-1"
EVERY_DELEGATION_AT_LIMA = (
    "convenio-reniec-014-2025",
    "convenio-migraciones-021-2025",
    "convenio-sunarp-007-2026",
    "convenio-sunat-011-2026",
)
KIOSK_DELEGATIONS = ("convenio-reniec-014-2025", "convenio-migraciones-021-2025")
DUPLICADO = {"citizen.document_number": "40000001", "inputs.reason": "perdida"}


@dataclass
class Pages:
    bus: FakeCaseBus
    feed: FakeStatusFeed
    store: CounterStore
    console: WebConsole
    client: TestClient

    def csrf(self) -> str:
        page = self.client.get("/estado")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def log_in(self, user: str = LIMA_NORTE, password: str = PASSWORD) -> Response:
        return self.client.post(
            "/ingresar",
            data={"csrf_token": self.csrf(), "usuario": user, "contrasena": password},
        )

    def post(self, path: str, data: dict[str, str]) -> Response:
        return self.client.post(path, data={"csrf_token": self.csrf(), **data})

    def submit(self, key: str, answers: dict[str, str] = DUPLICADO, **extra: str) -> Response:
        return self.post(
            "/tramites/duplicado-dni/enviar",
            {"clave": key, **answers, "consentimiento": "si", **extra},
        )


def pages(tmp_path: Path) -> Pages:
    tokens_file = tmp_path / "gateway" / "tokens.json"
    write_tokens(tokens_file, TOKENS)
    bus, feed = FakeCaseBus(), FakeStatusFeed()
    store = CounterStore(tmp_path / "gateway" / "counter.sqlite")
    store.add(LIMA_NORTE, "mac-lima-norte", EVERY_DELEGATION_AT_LIMA, PASSWORD)
    store.add(PIAS_NAPO, "mac-express-pias-napo", KIOSK_DELEGATIONS, PASSWORD)
    console = WebConsole(bus, feed, store)
    app = create_app(bus, TokenBook(tokens_file), pages=console)
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    return Pages(bus, feed, store, console, client)


def case_view(case_id: UUID, status: str, steps: dict[str, str], version: int) -> CaseView:
    """A duplicado-dni case as the ledger would show it; `steps` maps step id to status."""
    now = datetime.now(UTC)
    entities = {"pago-tasa": "banco-nacion", "duplicado-dni": "reniec"}
    views: list[dict[str, Any]] = [
        {
            "step_id": step_id,
            "entity": entities.get(step_id.split("/")[0], "banco-nacion"),
            "service": "devolucion-tasa" if step_id.endswith("/compensation") else step_id,
            "status": step_status,
            "attempts": 1,
            "compensates": step_id.split("/")[0] if step_id.endswith("/compensation") else None,
        }
        for step_id, step_status in steps.items()
    ]
    return CaseView(
        case_id=case_id,
        procedure="duplicado-dni",
        channel="mac-lima-norte",
        status=status,  # type: ignore[arg-type]
        submitted_at=now,
        updated_at=now,
        version=version,
        steps=[StepView.model_validate(v) for v in views],
    )


def case_id_of(response: Response) -> UUID:
    location = response.headers["location"]
    assert location.startswith("/casos/"), location
    return UUID(location.removeprefix("/casos/"))
