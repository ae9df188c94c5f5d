"""What a channel sends the gateway over HTTP, for the gateway's tests at every level."""

from pathlib import Path
from typing import Any

from services.credentials import Principal, TokenFile, TokenRecord, hash_token


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
