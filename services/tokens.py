"""Issuing and revoking gateway tokens: the plain token is shown once, only its hash is kept."""

import secrets
from pathlib import Path

from services.credentials import (
    DEFAULT_RATE_PER_MINUTE,
    Principal,
    TokenFile,
    TokenRecord,
    hash_token,
    load_token_records,
    write_private,
)


def issue_token(
    tokens_file: Path, principal: Principal, rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
) -> tuple[str, str]:
    """Add a token for `principal`; returns (token id, the token itself)."""
    token, token_id = secrets.token_urlsafe(32), f"tok_{secrets.token_hex(6)}"
    record = TokenRecord(
        sha256=hash_token(token),
        principal=principal,
        token_id=token_id,
        rate_per_minute=rate_per_minute,
    )
    records = [*load_token_records(tokens_file), record]
    write_private(tokens_file, TokenFile(tokens=records).model_dump_json(indent=2))
    return token_id, token


def revoke_token(tokens_file: Path, token_id: str) -> bool:
    """Forget the token's hash; the gateway refuses it from its next request on."""
    records = load_token_records(tokens_file)
    kept = [r for r in records if r.token_id != token_id]
    if len(kept) == len(records):
        return False
    write_private(tokens_file, TokenFile(tokens=kept).model_dump_json(indent=2))
    return True
