"""Composition root of a site's gateway process (`ventanilla serve site-gateway`)."""

import asyncio
import logging
from pathlib import Path

from services.bus.tracing import setup_tracing
from services.datadir import DataDir
from services.gateway.main import run
from services.logging import setup_logging

from .bundle import load_bundle
from .site_bus import SiteCaseBus
from .site_gateway import site_app
from .site_status import SiteStatusFeed


def serve(bundle_dir: Path, data_dir: Path, nats_url: str, host: str, port: int) -> None:
    setup_logging("gateway")
    setup_tracing("gateway")
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    bundle = load_bundle(bundle_dir)
    # The site's own server, on loopback, has no users: only the site's processes reach it.
    asyncio.run(
        run(
            DataDir(data_dir),
            nats_url,
            host,
            port,
            build_app=site_app(bundle.site),
            status_watch=lambda nc: SiteStatusFeed(SiteCaseBus(nc, bundle.site)),
        )
    )
