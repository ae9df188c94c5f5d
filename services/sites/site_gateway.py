"""Composition root of a site's gateway: the hub's gateway app on the site's own case bus.

The advisor's kiosk talks to it exactly as it would to the hub's gateway (same API, same token);
a submission is answered with a receipt that says the case waits to be forwarded. The advisor's
browser gets the counter console, on the site's own clerk accounts (in the site's data dir) and
the site's own view of its cases: it works with the link down. The auditors' and operators'
pages stay at the hub, with the ledger they read.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from nats.aio.client import Client

from schemas.sites import PENDING_FORWARD
from services.credentials import Principal
from services.datadir import DataDir
from services.gateway.app import create_app
from services.gateway.auth import TokenBook, authenticator, channel_of
from services.gateway.main import AppBuilder
from services.gateway.status_watch import WatchedStatusFeed
from services.gateway.web.console import WebConsole
from services.gateway.web.counter_store import CounterStore

from .site_bus import SiteCase, SiteCaseBus
from .site_status import SiteStatusFeed


def site_app(site: str) -> AppBuilder:
    def build(nc: Client, data: DataDir, feed: WatchedStatusFeed | None) -> FastAPI:
        if not isinstance(feed, SiteStatusFeed):
            raise TypeError("a site's gateway runs on the site's status feed")
        bus = feed.bus
        tokens = TokenBook(data.gateway_tokens)
        console = WebConsole(bus, feed, CounterStore(data.counter_store), site=site)
        app = create_app(
            bus, tokens, pages=console, status_feed=feed, submit_receipt=PENDING_FORWARD
        )
        app.include_router(site_routes(bus, tokens))
        return app

    return build


def site_routes(bus: SiteCaseBus, tokens: TokenBook) -> APIRouter:
    router = APIRouter(prefix="/v1/site", tags=["site"])
    authenticate = authenticator(tokens)

    async def own_channel(principal: Annotated[Principal, Depends(authenticate)]) -> str:
        return channel_of(principal)

    @router.get("/cases", summary="Every case taken at this site, with its status")
    async def site_cases(_: Annotated[str, Depends(own_channel)]) -> list[SiteCase]:
        """Oldest first. `forwarded` is false while the case waits for the link
        (`status` then says so); once the hub's status came back, `view` is the hub's view."""
        return await bus.cases()

    return router
