"""Per-token request budgets: a token bucket per token, refilled continuously.

A token may spend up to a minute's budget in a burst, then one request every 60/rate seconds.
The budget lives in this gateway process; several gateways each allow the full rate.
"""

import math
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (requests left, at)

    def take(self, key: str, per_minute: int) -> int | None:
        """Spend one request of `key`'s budget; None if allowed, else seconds until one is."""
        now = self.clock()
        left, at = self._buckets.get(key, (float(per_minute), now))
        left = min(float(per_minute), left + (now - at) * per_minute / 60.0)
        if left >= 1.0:
            self._buckets[key] = (left - 1.0, now)
            return None
        self._buckets[key] = (left, now)
        return max(1, math.ceil((1.0 - left) * 60.0 / per_minute))
