"""Connecting a process to NATS, reconnecting for as long as the process lives."""

import ssl
from pathlib import Path

import nats
import structlog
from nats.aio.client import Client

log = structlog.get_logger(__name__)


async def connect(
    url: str,
    name: str,
    *,
    user_credentials: Path | None = None,
    tls: ssl.SSLContext | None = None,
    connect_timeout: float = 5.0,
) -> Client:
    """Connect or raise: a process that cannot reach the bus at start-up must fail loudly."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", error=type(exc).__name__, detail=str(exc))

    async def on_disconnect() -> None:
        log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    return await nats.connect(
        servers=[url],
        name=name,
        user_credentials=str(user_credentials) if user_credentials else None,
        tls=tls,
        connect_timeout=connect_timeout,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )
