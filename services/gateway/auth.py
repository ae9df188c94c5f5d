"""Who is calling: bearer tokens to principals (channel, auditor, operator), and what each may do.

Only SHA-256 hashes of tokens are kept (see services/credentials.py). The token file is re-read
when it changes on disk, so tokens re-issued by `ventanilla up` work without a restart.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from services.credentials import Principal, Scope, TokenRecord, hash_token, load_token_records

from .problems import CaseNotVisible, Forbidden, NotAuthenticated, TooManyRequests
from .rate_limits import RateLimiter

log = structlog.get_logger(__name__)

FileSignature = tuple[int, int, int]

# The same words whether the case does not exist or belongs to another channel.
NOT_FOUND_DETAIL = "There is no case with this id that this token may see."


class TokenBook:
    """The tokens the gateway accepts, from the tokens file, kept fresh by its mtime."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signature: FileSignature | None = None
        self._tokens: dict[str, TokenRecord] = {}

    def record_for(self, token: str) -> TokenRecord | None:
        self._refresh()
        return self._tokens.get(hash_token(token))

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if self._signature is not None:
                log.warning("token file gone: no token is accepted", path=str(self.path))
            self._signature, self._tokens = None, {}
            return
        signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if signature == self._signature:
            return
        try:
            tokens = {r.sha256: r for r in load_token_records(self.path)}
        except (ValidationError, OSError) as exc:
            # Caught mid-rewrite: keep the tokens we had and read the file again next time.
            log.warning("token file unreadable, keeping previous tokens", error=type(exc).__name__)
            return
        self._signature, self._tokens = signature, tokens
        log.info("tokens loaded", count=len(tokens))


Authenticate = Callable[..., Awaitable[Principal]]

bearer = HTTPBearer(
    auto_error=False,
    description="A channel, auditor or operator token, as `Authorization: Bearer <token>`.",
)


def authenticator(book: TokenBook, limiter: RateLimiter | None = None) -> Authenticate:
    limiter = limiter or RateLimiter()

    async def authenticate(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise NotAuthenticated(
                "Send your access token in the header 'Authorization: Bearer <token>'.",
                invalid_token=False,
            )
        record = book.record_for(credentials.credentials)
        if record is None:
            raise NotAuthenticated(
                "The access token is not valid: it is unknown or was revoked.",
                invalid_token=True,
            )
        request.state.principal = record.principal  # for the request log line
        wait = limiter.take(record.sha256, record.rate_per_minute)
        if wait is not None:
            raise TooManyRequests(
                f"This token may make {record.rate_per_minute} requests a minute; "
                f"try again in {wait} s.",
                retry_after_seconds=wait,
            )
        return record.principal

    return authenticate


def channel_of(principal: Principal) -> str:
    """Only channels open cases, and always in their own name."""
    if principal.kind != "channel":
        raise Forbidden(f"Only a channel can submit cases; this is an {principal.kind} token.")
    require(principal, "cases:submit")
    return principal.id


def may_follow_cases(principal: Principal) -> None:
    if principal.kind == "operator":
        raise Forbidden("Operator tokens cannot read cases; use a channel or auditor token.")
    require(principal, "cases:read")


def holding(authenticate: Authenticate, scope: Scope) -> Authenticate:
    """A route dependency: the authenticated caller, if its token has `scope` (else 403)."""

    async def caller(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        require(principal, scope)
        return principal

    return caller


def require(principal: Principal, scope: Scope) -> None:
    if not principal.may(scope):
        raise Forbidden(f"This token does not have the scope '{scope}'.")


def may_replay(principal: Principal) -> None:
    """Replaying a case as of a moment is an audit: auditors only."""
    if principal.kind != "auditor":
        raise Forbidden("Only auditor tokens may replay a case as of a moment or version.")


def ensure_visible(principal: Principal, owner: str) -> None:
    """The owning channel and auditors see a case; other channels are told it does not exist."""
    if principal.kind == "auditor":
        return
    if principal.kind == "channel" and principal.id == owner:
        return
    raise CaseNotVisible(NOT_FOUND_DETAIL)
