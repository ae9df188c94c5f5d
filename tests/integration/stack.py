"""An in-process stack for integration tests: the real ledger and adapters on a real nats-server.

Only the process boundary is missing; tests about crashes start the ledger as a real process.
"""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from nats.js import JetStreamContext

from schemas import subjects
from schemas.cases import submit_msg_id
from schemas.catalog import ProcedureSpec
from schemas.messages import SubmitCase
from schemas.procedures import catalog
from services.bus.connection import ANONYMOUS, BusLogin, connect
from services.bus.permissions import ADMIN
from services.bus.publishing import publish
from services.bus.topology import ensure_topology
from services.case_ledger import main as ledger_main
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import MASTER_KEY_SETTING, LedgerStore
from services.entity_adapters import main as adapter_main
from services.entity_adapters.backoffices.effects import EffectLog
from services.entity_adapters.registry import back_office_factory, entity_ids
from tests.factories import COMPLETED_HISTORY
from tests.factories import submit_command as submit_command  # re-exported for tests

FINAL = ("completed", "rejected")


async def dead_letters(js: JetStreamContext) -> list[tuple[str, dict[str, str], bytes]]:
    """Every dead letter so far: (subject, headers, original bytes)."""
    info = await js.stream_info(subjects.DEAD_LETTERS_STREAM)
    letters = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(subjects.DEAD_LETTERS_STREAM, seq)
        letters.append((msg.subject, dict(msg.headers or {}), msg.data or b""))
    return letters


async def submit(js: JetStreamContext, command: SubmitCase) -> UUID:
    case_id = command.envelope.case_id
    await publish(
        js,
        subjects.submit_case(command.envelope.actor.id, case_id),
        command,
        msg_id=submit_msg_id(case_id),
    )
    return case_id


@dataclass
class LocalStack:
    store: LedgerStore
    nats_url: str
    effects: dict[str, EffectLog] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # Each process's bus user (see services/bus/permissions.py); anonymous on an open server.
    login_for: Callable[[str], BusLogin] = lambda user: ANONYMOUS

    def ledger(self) -> CaseLedger:
        """A reader on the same store (as the CLI would open it)."""
        return CaseLedger(catalog(), self.store.environment())

    @contextmanager
    def reading(self) -> Iterator[CaseLedger]:
        ledger = self.ledger()
        try:
            yield ledger
        finally:
            ledger.close()

    async def wait_final(self, case_id: UUID, within: float = 30.0) -> str:
        ledger = self.ledger()
        try:
            async with asyncio.timeout(within):
                while True:
                    try:
                        status = ledger.case_view(case_id).status
                    except Exception:
                        status = "unknown"
                    if status in FINAL:
                        return status
                    await asyncio.sleep(0.05)
        finally:
            ledger.close()

    async def wait_position(self, source: str, position: int, within: float = 30.0) -> None:
        """Until the ledger has processed the message at `position` of `source`."""
        ledger = self.ledger()
        try:
            async with asyncio.timeout(within):
                while ledger.position(source) < position:
                    await asyncio.sleep(0.01)
        finally:
            ledger.close()

    def start_adapters(self, entities: Iterable[str] | None = None) -> None:
        for entity in entity_ids() if entities is None else entities:
            effects = self.effects.setdefault(entity, EffectLog())
            office = back_office_factory(entity)(effects)
            self.tasks.append(
                asyncio.create_task(
                    adapter_main.run(
                        entity, office, self.nats_url, self.stop, login=self.login_for(entity)
                    )
                )
            )

    def start_ledger(self, procedures: dict[str, ProcedureSpec] | None = None) -> None:
        self.tasks.append(
            asyncio.create_task(
                ledger_main.run(
                    self.store,
                    self.nats_url,
                    self.stop,
                    procedures=procedures,
                    login=self.login_for("ledger"),
                )
            )
        )

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)


@asynccontextmanager
async def local_stack(
    store: LedgerStore,
    nats_url: str,
    *,
    ledger: bool = True,
    entities: Iterable[str] | None = None,
    procedures: dict[str, ProcedureSpec] | None = None,
    login_for: Callable[[str], BusLogin] | None = None,
    ledger_partitions: int = 1,
) -> AsyncIterator[LocalStack]:
    """The ledger and the adapters of `entities` (every reference entity by default)."""
    stack = LocalStack(store, nats_url)
    if login_for is not None:
        stack.login_for = login_for
    # As `ventanilla up` does before it starts any service: the bus owner lays out the topology.
    owner = await connect(nats_url, "test-bus-owner", login=stack.login_for(ADMIN))
    try:
        await ensure_topology(owner.jetstream(), ledger_partitions=ledger_partitions)
    finally:
        await owner.close()
    stack.start_adapters(entities)
    if ledger:
        stack.start_ledger(procedures)
    try:
        yield stack
    finally:
        await stack.close()


def ledger_process(
    store: LedgerStore,
    nats_url: str,
    failpoints: str = "",
    log: Path | None = None,
    partitions: str = "all",
) -> subprocess.Popen[bytes]:
    """The ledger as a real process (a worker preferring `partitions`), optionally armed to
    crash at a failpoint."""
    env = {**os.environ, "VENTANILLA_FAILPOINTS": failpoints}
    # The child opens the store from its URL; where its master key is travels as the setting.
    master_key = store.environment().get(MASTER_KEY_SETTING)
    if master_key:
        env[MASTER_KEY_SETTING] = master_key
    code = (
        "import sys; from services.case_ledger.main import run, run_or_refuse, LedgerStore; "
        "from services.logging import setup_logging; "
        "setup_logging('ledger'); "
        "run_or_refuse(run(LedgerStore(sys.argv[1]), sys.argv[2], partitions=sys.argv[3]))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, store.url, nats_url, partitions],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stderr=log.open("ab") if log is not None else subprocess.DEVNULL,
    )


def event_types(ledger: CaseLedger, case_id: UUID) -> list[str]:
    return [e.type for e in ledger.case_history(case_id).events]


async def wait_exit(process: subprocess.Popen[bytes], within: float = 30.0) -> int:
    async with asyncio.timeout(within):
        while process.poll() is None:
            await asyncio.sleep(0.02)
    return process.returncode


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def said(log: Path) -> str:
    return log.read_text()


def assert_each_case_once(stack: LocalStack, case_ids: list[UUID]) -> None:
    ledger = stack.ledger()
    try:
        for case_id in case_ids:
            assert event_types(ledger, case_id) == COMPLETED_HISTORY, case_id
    finally:
        ledger.close()
    assert stack.effects["banco-nacion"].count("fee-charged") == len(case_ids)
    assert stack.effects["reniec"].count("dni-duplicate-issued") == len(case_ids)
