"""Connecting a process to NATS, reconnecting for as long as the process lives."""

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from pathlib import Path

import structlog
from nats.aio.client import Client

from services.bus.permissions import inbox_prefix

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class BusLogin:
    """Who a process is on the bus and how it proves it.

    `user` names the process's bus user (its seed file is `<user>.nk`); without a seed the
    process connects anonymously, which only a server without authorization accepts (tests).
    `tls_ca` is the authority that signed the server's certificate.
    """

    user: str | None = None
    nkey_seed: Path | None = None
    tls_ca: Path | None = None

    @classmethod
    def from_seed_file(cls, seed: Path, tls_ca: Path | None = None) -> "BusLogin":
        return cls(user=seed.name.removesuffix(".nk"), nkey_seed=seed, tls_ca=tls_ca)

    def tls_context(self) -> ssl.SSLContext | None:
        if self.tls_ca is None:
            return None
        return ssl.create_default_context(cafile=str(self.tls_ca))


ANONYMOUS = BusLogin()

# How long a one-shot command (the CLI) tries to reach the bus before it says it cannot. A
# service waits for as long as it takes: its supervisor started it before the bus was up.
COMMAND_CONNECT_WAIT = 15.0


class BusUnreachable(ConnectionError):
    """No server accepted the connection in time; the last error says why (refused, TLS...)."""

    def __init__(self, url: str, waited: float, last: BaseException | None) -> None:
        reason = f"{type(last).__name__}: {last}" if last is not None else "no answer"
        super().__init__(
            f"no NATS server at {url} accepted a connection in {waited:g} s ({reason})"
        )
        self.last = last


async def connect(
    url: str,
    name: str,
    *,
    login: BusLogin = ANONYMOUS,
    user_credentials: Path | None = None,
    tls: ssl.SSLContext | None = None,
    connect_timeout: float = 5.0,
    give_up_after: float | None = None,
) -> Client:
    """Connect, then stay connected: the client reconnects for as long as the process lives.

    `url` may name several servers of a cluster, comma-separated; the client moves to another
    one when its server goes away (it also learns the others from the server it reaches).

    nats-py retries the first connection as endlessly as the later ones (a refused connection,
    a certificate it does not trust): with `give_up_after`, `BusUnreachable` is raised once
    that many seconds passed without a connection, so a command says why instead of hanging.
    """

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", error=type(exc).__name__, detail=str(exc))

    client = Client()

    async def on_disconnect() -> None:
        # nats-py also reports the end of a deliberate drain or close: only a loss is news.
        if client.is_closed or client.is_draining:
            log.debug("nats connection closed")
        else:
            log.warning("nats disconnected")

    async def on_reconnect() -> None:
        log.info("nats reconnected")

    connecting = client.connect(
        servers=[u.strip() for u in url.split(",") if u.strip()],
        name=name,
        user_credentials=str(user_credentials) if user_credentials else None,
        nkeys_seed=str(login.nkey_seed) if login.nkey_seed else None,
        inbox_prefix=inbox_prefix(login.user) if login.user else "_INBOX",
        tls=tls or login.tls_context(),
        connect_timeout=connect_timeout,  # type: ignore[arg-type]  # seconds; typed int upstream
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,  # type: ignore[arg-type]  # seconds; typed int upstream
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )
    if give_up_after is None:
        await connecting
        return client
    try:
        await asyncio.wait_for(connecting, give_up_after)
    except TimeoutError:
        last = client.last_error
        with contextlib.suppress(Exception):
            await client.close()
        raise BusUnreachable(url, give_up_after, last) from None
    return client
