"""What keeps the pages safe: CSRF tokens, attempt limits, verification codes, log pseudonyms.

CSRF: every visitor gets a random `ventanilla_csrf` cookie (HttpOnly, SameSite=Strict) and every
form carries an HMAC of it under the console's key; a post whose field does not match the cookie
is refused. Another site can neither read the cookie nor compute the HMAC.
"""

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable
from uuid import UUID

CSRF_COOKIE = "ventanilla_csrf"
CSRF_FIELD = "csrf_token"
VERIFICATION_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L to misread
VERIFICATION_LENGTH = 8


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(key: bytes, cookie: str) -> str:
    return hmac.new(key, b"csrf\n" + cookie.encode(), hashlib.sha256).hexdigest()


def csrf_matches(key: bytes, cookie: str | None, field: str | None) -> bool:
    if not cookie or not field:
        return False
    return hmac.compare_digest(csrf_token(key, cookie), field)


def verification_code(key: bytes, case_id: UUID) -> str:
    """The citizen's code for a case: derived, never stored, so any receipt reprint shows it."""
    digest = hmac.new(key, b"verification\n" + case_id.bytes, hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    base = len(VERIFICATION_ALPHABET)
    chars = []
    for _ in range(VERIFICATION_LENGTH):
        number, index = divmod(number, base)
        chars.append(VERIFICATION_ALPHABET[index])
    return "".join(chars)


def verification_matches(key: bytes, case_id: UUID, typed: str) -> bool:
    plain = "".join(c for c in typed.upper() if c.isalnum())
    return hmac.compare_digest(verification_code(key, case_id), plain)


def pseudonym(key: bytes, clerk: str, kind: str = "clerk") -> str:
    """How an account appears in logs (`clerk-…`, `staff-…`): stable per account, not
    reversible without the console key. One login name is one account, so the HMAC input is
    the same for either kind."""
    return f"{kind}-" + hmac.new(key, b"clerk\n" + clerk.encode(), hashlib.sha256).hexdigest()[:12]


class AttemptLimit:
    """At most `attempts` failures per key within `window` seconds; then the key waits.

    Kept in the gateway process: a restart forgets the count, and several gateways each allow
    the full number (as for the per-token rate limits).
    """

    def __init__(
        self, attempts: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[str, list[float]] = {}

    def wait(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        recent = self._recent(key)
        if len(recent) < self.attempts:
            return None
        return max(1, math.ceil(recent[0] + self.window - self.clock()))

    def failed(self, key: str) -> None:
        self._failures[key] = [*self._recent(key), self.clock()]

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> list[float]:
        since = self.clock() - self.window
        recent = [t for t in self._failures.get(key, []) if t > since]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return recent
