"""A case's status as it changes: Server-Sent Events for API clients and the web pages alike.

Each event is the case's view (the body of `GET /v1/cases/{id}`) with the case version as its
id. A client that reconnects sends the last id it saw (`Last-Event-ID`) and first gets the
current state, then what changes after it; the stream ends when the case does. A reconnect
after the end gets `204 No Content`, which tells a browser's EventSource to stop retrying.

A plain StreamingResponse, not sse-starlette (which breaks behind GZipMiddleware); comments
every `KEEPALIVE` seconds keep idle proxies from cutting a quiet stream.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import StreamingResponse

from schemas.views import FINAL_STATUSES, CaseView
from services.credentials import Principal

from ..auth import NOT_FOUND_DETAIL, Authenticate, ensure_visible, may_follow_cases
from ..case_bus import CaseBus
from ..problems import CaseNotVisible, problem_content
from ..status_feed import CaseStatusFeed

log = structlog.get_logger(__name__)

KEEPALIVE = 15.0
RETRY_MS = 2000  # how long a browser waits before it reconnects
MEDIA_TYPE = "text/event-stream"

LAST_EVENT_ID = Header(
    alias="Last-Event-ID",
    description="The id (case version) of the last event this client got; browsers send it "
    "when they reconnect. The stream then starts with the current state.",
)


def case_event_routes(
    bus: CaseBus, feed: CaseStatusFeed, authenticate: Authenticate, keepalive: float = KEEPALIVE
) -> APIRouter:
    router = APIRouter(prefix="/v1/cases", tags=["cases"])

    async def case_reader(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        may_follow_cases(principal)
        return principal

    @router.get(
        "/{case_id}/events",
        summary="Follow a case's status as it changes (Server-Sent Events)",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
                "description": "A stream of `case` events, each a case view (as GET "
                "/v1/cases/{case_id} answers) with the case version as its id; it ends when "
                "the case is completed or rejected.",
            },
            204: {"description": "The case had already ended when this client last saw it."},
            401: problem_content("Missing, unknown or revoked token."),
            403: problem_content("An operator token may not read cases."),
            404: problem_content("No such case, or it belongs to another channel."),
            503: problem_content("NATS or the ledger is not answering; retry later."),
        },
    )
    async def follow_case(
        request: Request,
        case_id: Annotated[UUID, Path(description="The case id returned by POST /v1/cases.")],
        principal: Annotated[Principal, Depends(case_reader)],
        last_event_id: Annotated[str | None, LAST_EVENT_ID] = None,
    ) -> Response:
        request.state.case_id = case_id
        view = await bus.case(case_id)
        if view is None:
            raise CaseNotVisible(NOT_FOUND_DETAIL)
        ensure_visible(principal, view.channel)
        seen = _version(last_event_id)
        if view.status in FINAL_STATUSES and seen is not None and seen >= view.version:
            return Response(status_code=204)
        return StreamingResponse(
            _stream(view, feed, keepalive),
            media_type=MEDIA_TYPE,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


async def _stream(first: CaseView, feed: CaseStatusFeed, keepalive: float) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    yield event(first)
    if first.status in FINAL_STATUSES:
        return
    last = first.version
    updates = aiter(feed.updates(first.case_id))
    pending = asyncio.ensure_future(anext(updates))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=keepalive)
            if not done:
                yield ": keepalive\n\n"
                continue
            try:
                view = pending.result()
            except StopAsyncIteration:
                return
            if view.version > last:
                last = view.version
                yield event(view)
                if view.status in FINAL_STATUSES:
                    return
            pending = asyncio.ensure_future(anext(updates))
    except Exception as exc:  # the bus went away mid-stream: end it, the client reconnects
        log.warning("case events stream ended early", error=type(exc).__name__)
    finally:
        pending.cancel()
        await asyncio.wait({pending})
        if not pending.cancelled():
            pending.exception()  # retrieved: an end or an error we no longer care about
        close = getattr(updates, "aclose", None)
        if close is not None:
            await close()


def event(view: CaseView) -> str:
    return f"id: {view.version}\nevent: case\ndata: {view.model_dump_json()}\n\n"


def _version(last_event_id: str | None) -> int | None:
    if last_event_id is None:
        return None
    try:
        return int(last_event_id.strip())
    except ValueError:
        return None  # not one of ours: start from the current state as for a new client
