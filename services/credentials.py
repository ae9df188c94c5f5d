"""Bearer tokens for channels, auditors and operators.

The gateway keeps only SHA-256 hashes of tokens; the plain tokens of a local stack are handed to
its user once, in `<data dir>/dev-credentials.json` (mode 0600).
"""

import hashlib
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PrincipalKind = Literal["channel", "auditor", "operator"]
# What a token may do at the gateway. A channel submits and follows its own cases; an auditor
# reads any case and its history; an operator reads operational views.
Scope = Literal["cases:submit", "cases:read", "audit:read", "ops:read"]
DEFAULT_SCOPES: dict[PrincipalKind, frozenset[Scope]] = {
    "channel": frozenset({"cases:submit", "cases:read"}),
    "auditor": frozenset({"cases:read", "audit:read"}),
    "operator": frozenset({"ops:read"}),
}
DEFAULT_RATE_PER_MINUTE = 600

# Demo channels of a local stack: a Centro MAC counter and a MAC Express kiosk on a river boat.
DEMO_CHANNELS = ("mac-lima-norte", "mac-express-pias-napo")


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PrincipalKind
    id: str
    # None: the usual scopes of its kind (DEFAULT_SCOPES).
    scopes: frozenset[Scope] | None = None

    def may(self, scope: Scope) -> bool:
        granted = DEFAULT_SCOPES[self.kind] if self.scopes is None else self.scopes
        return scope in granted


class TokenRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str
    principal: Principal
    # Names the token for revocation and in logs; never the token itself.
    token_id: str = ""
    rate_per_minute: int = Field(default=DEFAULT_RATE_PER_MINUTE, gt=0)


class TokenFile(BaseModel):
    tokens: list[TokenRecord] = []


class DemoClerk(BaseModel):
    """A demo clerk account of the counter console, with its password in clear (dev only)."""

    password: str
    channel: str
    delegations: list[str]


class DemoStaff(BaseModel):
    """A demo auditor or operator account of the web console, password in clear (dev only)."""

    password: str


class DevCredentials(BaseModel):
    gateway_url: str
    nats_url: str
    channels: dict[str, str]
    auditor: str
    operator: str
    clerks: dict[str, DemoClerk] = Field(default_factory=dict)
    # Web console logins of /auditoria and /operaciones (the `auditor` and `operator` above are
    # the API's bearer tokens).
    auditors: dict[str, DemoStaff] = Field(default_factory=dict)
    operators: dict[str, DemoStaff] = Field(default_factory=dict)
    # The Prometheus endpoints `ventanilla up` serves (one covers the bus: docs/operations.md).
    metrics: list[str] = Field(default_factory=list)
    # Where MAC Express sites connect their leaf nodes (docs/sites.md).
    leafnode_url: str | None = None


DEMO_ID_PREFIX = "demo-"


def _is_demo(record: TokenRecord) -> bool:
    return record.token_id == "" or record.token_id.startswith(DEMO_ID_PREFIX)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_tokens(path: Path) -> dict[str, Principal]:
    """Map of token hash to principal; an absent file accepts no token at all."""
    return {r.sha256: r.principal for r in load_token_records(path)}


def load_token_records(path: Path) -> list[TokenRecord]:
    if not path.exists():
        return []
    return TokenFile.model_validate_json(path.read_text()).tokens


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def issue_dev_credentials(
    tokens_file: Path,
    credentials_file: Path,
    gateway_url: str,
    nats_url: str,
    metrics: tuple[str, ...] = (),
) -> DevCredentials:
    """Keep the tokens of an earlier run (so clients keep working); create them the first time."""
    if credentials_file.exists():
        previous = DevCredentials.model_validate_json(credentials_file.read_text())
        channels, auditor, operator = previous.channels, previous.auditor, previous.operator
        # Kept for `ventanilla up`'s demo accounts (stack/demo_clerks.py).
        clerks, auditors, operators = previous.clerks, previous.auditors, previous.operators
    else:
        channels = {c: secrets.token_urlsafe(32) for c in DEMO_CHANNELS}
        auditor, operator = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        clerks, auditors, operators = {}, {}, {}
    credentials = DevCredentials(
        gateway_url=gateway_url,
        nats_url=nats_url,
        channels=channels,
        auditor=auditor,
        operator=operator,
        clerks=clerks,
        auditors=auditors,
        operators=operators,
        metrics=list(metrics),
    )
    records = [
        TokenRecord(
            sha256=hash_token(t),
            principal=Principal(kind="channel", id=c),
            token_id=f"{DEMO_ID_PREFIX}{c}",
        )
        for c, t in channels.items()
    ]
    records.append(
        TokenRecord(
            sha256=hash_token(auditor),
            principal=Principal(kind="auditor", id="auditor"),
            token_id=f"{DEMO_ID_PREFIX}auditor",
        )
    )
    records.append(
        TokenRecord(
            sha256=hash_token(operator),
            principal=Principal(kind="operator", id="operator"),
            token_id=f"{DEMO_ID_PREFIX}operator",
        )
    )
    # Tokens issued with `ventanilla token issue` survive a restart; demo tokens are rewritten.
    issued = [r for r in load_token_records(tokens_file) if not _is_demo(r)]
    write_private(tokens_file, TokenFile(tokens=records + issued).model_dump_json(indent=2))
    write_private(credentials_file, credentials.model_dump_json(indent=2))
    return credentials
