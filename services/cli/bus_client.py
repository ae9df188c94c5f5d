"""The bus for one CLI command: connected within a bounded wait, or an error that says why."""

from nats.aio.client import Client
from nats.errors import Error as NatsError

from services.bus.connection import COMMAND_CONNECT_WAIT, BusLogin, connect
from services.cli.failures import CliError


async def connect_for_command(url: str, name: str, login: BusLogin) -> Client:
    try:
        return await connect(url, name, login=login, give_up_after=COMMAND_CONNECT_WAIT)
    except (OSError, NatsError) as exc:
        raise CliError(f"cannot reach NATS at {url}", f"{type(exc).__name__}: {exc}") from None
