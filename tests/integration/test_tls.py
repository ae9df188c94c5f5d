"""The bus over TLS: the server presents a certificate from a CA the clients trust, and a case
completes with every process on its own user; a client that does not speak TLS is turned away."""

from pathlib import Path

import nats
import nats.errors
import pytest

from services.bus.connection import BusLogin, BusUnreachable, connect
from services.case_ledger.store import LedgerStore
from services.stack.nats_config import TlsFiles
from tests.factories import submit_command
from tests.integration.secured_bus import secured_bus
from tests.integration.stack import local_stack, submit
from tests.throwaway_ca import issue

pytestmark = pytest.mark.integration


async def test_a_case_completes_over_tls_with_per_role_users(
    tmp_path: Path, sqlite_store: LedgerStore
) -> None:
    certs = issue(tmp_path / "pki")
    tls = TlsFiles(cert=certs.cert, key=certs.key, ca=certs.ca)
    with secured_bus(tmp_path / "bus", tls) as bus:
        async with (
            local_stack(sqlite_store, bus.url, login_for=bus.login) as stack,
            bus.client("gateway") as (gateway, refusals),
        ):
            case_id = await submit(gateway.jetstream(), submit_command("40000001"))
            assert await stack.wait_final(case_id) == "completed"
            assert refusals.errors == []
        assert bus.violations() == []

        seed = str(bus.config.seed_file("gateway"))
        with pytest.raises((nats.errors.Error, OSError)):
            # The right user, but no TLS: the server requires it before anything else.
            await nats.connect(
                bus.url, nkeys_seed=seed, allow_reconnect=False, max_reconnect_attempts=0
            )


async def test_a_client_that_does_not_trust_the_certificate_gives_up_and_says_why(
    tmp_path: Path,
) -> None:
    """nats-py alone retries the first connection forever: a CLI command would hang."""
    certs = issue(tmp_path / "pki")
    other = issue(tmp_path / "other-pki")  # an authority that signed nothing the server has
    tls = TlsFiles(cert=certs.cert, key=certs.key, ca=certs.ca)
    with secured_bus(tmp_path / "bus", tls) as bus:
        seed = bus.config.seed_file("gateway")
        distrustful = BusLogin.from_seed_file(seed, tls_ca=other.ca)
        with pytest.raises(BusUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            await connect(bus.url, "distrustful", login=distrustful, give_up_after=2.0)
        trusting = BusLogin.from_seed_file(seed, tls_ca=certs.ca)
        nc = await connect(bus.url, "trusting", login=trusting, give_up_after=2.0)
        assert nc.is_connected
        await nc.close()
