"""Server-sent events for a live case page: each new version of the case as HTML fragments.

The page's htmx SSE extension swaps two named events: `estado` into the `role="status"` region
(so a screen reader announces the change) and `tareas` into the task list. `fin` tells the
browser to close the stream when the case is final, so it does not reconnect. Each message's
`id` is the case version; a browser that reconnects gets the current state first anyway. A
comment goes out when nothing happened for a while, so that no proxy closes a quiet stream.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from uuid import UUID

from fastapi.responses import StreamingResponse
from jinja2 import Environment

from schemas.procedures import catalog
from schemas.views import FINAL_STATUSES, CaseView

from ..status_feed import CaseStatusFeed
from .tasks import task_list

KEEPALIVE_SECONDS = 15.0


def sse_message(event: str, data: str, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def fragments(env: Environment, view: CaseView, *, at_site: bool = False) -> dict[str, str]:
    """The parts of a case page that change, rendered for one version of the case."""
    tasks = task_list(catalog().get(view.procedure), view, at_site=at_site)
    return {
        "estado": env.get_template("_status.html").render(tasks=tasks),
        "tareas": env.get_template("_tasks.html").render(tasks=tasks),
    }


async def _with_keepalive(
    updates: AsyncIterator[CaseView], quiet: float
) -> AsyncIterator[CaseView | None]:
    """The updates, with a None whenever `quiet` seconds pass without one."""
    pending: asyncio.Future[CaseView] = asyncio.ensure_future(anext(updates))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=quiet)
            if not done:
                yield None
                continue
            try:
                view = pending.result()
            except StopAsyncIteration:
                return
            yield view
            pending = asyncio.ensure_future(anext(updates))
    finally:
        pending.cancel()
        with suppress(asyncio.CancelledError, StopAsyncIteration):
            await pending
        aclose = getattr(updates, "aclose", None)
        if aclose is not None:
            await aclose()


def case_stream(
    env: Environment,
    feed: CaseStatusFeed,
    case_id: UUID,
    keepalive: float = KEEPALIVE_SECONDS,
    *,
    at_site: bool = False,
) -> StreamingResponse:
    async def events() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        final = False
        async for view in _with_keepalive(feed.updates(case_id), keepalive):
            if view is None:
                yield ": still here\n\n"
                continue
            for event, html in fragments(env, view, at_site=at_site).items():
                yield sse_message(event, html, view.version)
            final = view.status in FINAL_STATUSES
        if final:
            yield sse_message("fin", "")

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
