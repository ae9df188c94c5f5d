"""Server-sent events for a live case page: each new version of the case as HTML fragments.

The page's htmx SSE extension swaps two named events: `estado` into the `role="status"` region
(so a screen reader announces the change) and `tareas` into the task list. `fin` tells the
browser to close the stream when the case is final, so it does not reconnect. Each message's
`id` is the case version; a browser that reconnects gets the current state first anyway.
"""

from collections.abc import AsyncIterator, Callable
from uuid import UUID

from fastapi.responses import StreamingResponse

from schemas.views import CaseView

from ..status_feed import CaseStatusFeed

Fragments = Callable[[CaseView], dict[str, str]]


def sse_message(event: str, data: str, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def case_stream(feed: CaseStatusFeed, case_id: UUID, fragments: Fragments) -> StreamingResponse:
    async def events() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        final = False
        async for view in feed.updates(case_id):
            for event, html in fragments(view).items():
                yield sse_message(event, html, view.version)
            final = view.status in ("completed", "rejected")
        if final:
            yield sse_message("fin", "")

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
