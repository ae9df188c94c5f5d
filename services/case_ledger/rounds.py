"""The loop of a ledger task that follows the store in rounds (the outbox relay, the status
views): a full batch is followed at once by the next round, a smaller one waits until a save
wakes it (or a second), and a round that raises (NATS away) is tried again a second later."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable


async def keep_following(
    round_: Callable[[], Awaitable[int]],
    batch: int,
    wake: asyncio.Event,
    stop: asyncio.Event,
    failed: Callable[[Exception], None],
    idle: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run `round_` (how many it handled) until `stop`; `idle` after a round that found nothing."""
    while not stop.is_set():
        wake.clear()  # before reading, so a save during the read wakes the next round
        try:
            handled = await round_()
        except Exception as exc:  # keep the position, try again
            failed(exc)
            await asyncio.sleep(1.0)
            continue
        if handled == 0 and idle is not None:
            await idle()
        if handled < batch:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=1.0)
