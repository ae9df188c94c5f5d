"""What a channel sends the gateway over HTTP, for the gateway's tests at every level."""

from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from services.credentials import Principal, TokenFile, TokenRecord, hash_token
from tests.processes import eventually


def body(dni: str = "40000001", reason: str = "perdida") -> dict[str, Any]:
    """A duplicado-dni submission as a counter would send it."""
    return {
        "procedure": "duplicado-dni",
        "citizen": {"document_type": "DNI", "document_number": dni},
        "inputs": {"reason": reason},
    }


def auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return {**headers, "Idempotency-Key": key} if key is not None else headers


def write_tokens(path: Path, tokens: dict[str, Principal]) -> None:
    """A gateway tokens file holding the hashes of these plain tokens."""
    records = [TokenRecord(sha256=hash_token(t), principal=p) for t, p in tokens.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TokenFile(tokens=records).model_dump_json())


def case_to_its_end(
    gateway_url: str, token: str, procedure: str, inputs: dict[str, Any], dni: str = "40000001"
) -> dict[str, Any]:
    """Submit a case over HTTP and wait (up to a minute) until it is completed or rejected."""
    case = {
        "procedure": procedure,
        "citizen": {"document_type": "DNI", "document_number": dni},
        "inputs": inputs,
    }
    with httpx.Client(base_url=gateway_url, timeout=10.0) as client:
        created = client.post("/v1/cases", json=case, headers=auth(token, str(uuid4())))
        assert created.status_code == 202, created.text
        case_id = created.json()["case_id"]

        def final() -> dict[str, Any] | None:
            view = client.get(f"/v1/cases/{case_id}", headers=auth(token))
            done = view.status_code == 200 and view.json()["status"] in ("completed", "rejected")
            return view.json() if done else None

        return eventually(final, 60, f"the {procedure} case to finish")
