"""A new entity from `ventanilla adapter new` to a completed case, checked by `adapter check`.

One `ventanilla up` runs two generated packages, installed as test_entity_package installs
one (pip `--target`, PYTHONPATH): `mtc` as generated, with its procedure file copied into the
data dir's catalog, and `mtc-roto`, whose back office was changed to act again on a duplicate.
The check passes for the first and fails for the second, naming the check; neither run leaves
a case, an event or a dead letter in the ledger; then a case through mtc's procedure completes.
"""

import asyncio
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas import subjects
from services.bus.connection import BusLogin, connect
from services.bus.dead_letters import dead_letters
from services.credentials import DevCredentials
from services.datadir import DataDir
from tests.http import case_to_its_end
from tests.processes import env_with, eventually, pip_install, running_up, ventanilla

pytestmark = pytest.mark.e2e

GOOD, BROKEN = "mtc", "mtc-roto"
# The broken back office files every certificate under a fresh key: a duplicate acts again.
IDEMPOTENT = 'idempotency_key,\n            "certificate-issued",'
ACTS_TWICE = 'f"{idempotency_key}#{uuid4()}",\n            "certificate-issued",'


@dataclass
class Stack:
    data_dir: Path
    env: dict[str, str]
    credentials: DevCredentials


def adapter_new(entity: str, out: Path) -> None:
    done = subprocess.run(
        [*ventanilla(), "adapter", "new", entity, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def adapter_check(stack: Stack, entity: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ventanilla(), "adapter", "check", entity, "--data-dir", str(stack.data_dir)],
        capture_output=True,
        text=True,
        env=stack.env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("kit")
    good, broken = root / GOOD, root / BROKEN
    adapter_new(GOOD, good)
    adapter_new(BROKEN, broken)
    office = next(broken.glob("src/*/back_office.py"))
    code = office.read_text()
    assert IDEMPOTENT in code
    office.write_text("from uuid import uuid4\n" + code.replace(IDEMPOTENT, ACTS_TWICE))
    site = root / "site"
    pip_install(good, site)
    pip_install(broken, site)
    data_dir = root / "var"
    (data_dir / "catalog").mkdir(parents=True)
    for procedure in (good / "procedures").iterdir():
        shutil.copy(procedure, data_dir / "catalog")
    env = env_with(site)
    with running_up(data_dir, root / "up.out", env):
        credentials = DevCredentials.model_validate_json(
            DataDir(data_dir).dev_credentials.read_text()
        )
        yield Stack(data_dir, env, credentials)


def ledger_events(stack: Stack) -> int:
    with sqlite3.connect(f"file:{DataDir(stack.data_dir).ledger_sqlite}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def results_read(stack: Stack) -> int:
    """How far the ledger has read the result stream (its tracking record)."""
    with sqlite3.connect(f"file:{DataDir(stack.data_dir).ledger_sqlite}?mode=ro", uri=True) as db:
        row = db.execute(
            "SELECT MAX(notification_id) FROM tracking WHERE application_name = 'results'"
        ).fetchone()
    return int(row[0] or 0)


def bus_state(stack: Stack) -> tuple[int, list[str]]:
    """How many results the bus holds, and who filed each dead letter."""

    async def read() -> tuple[int, list[str]]:
        seed = DataDir(stack.data_dir).nats_store / "users" / "admin.nk"
        nc = await connect(
            stack.credentials.nats_url, "test-kit", login=BusLogin.from_seed_file(seed)
        )
        try:
            js = nc.jetstream()
            results = (await js.stream_info(subjects.RESULTS_STREAM)).state.messages
            return results, [letter.filed_by for letter in await dead_letters(js)]
        finally:
            await nc.close()

    return asyncio.run(read())


def test_the_check_passes_for_the_generated_adapter_and_names_what_a_broken_one_does_twice(
    stack: Stack,
) -> None:
    good = adapter_check(stack, GOOD)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "all 6 checks passed" in good.stdout

    reference = adapter_check(stack, "reniec")  # the reference entities carry examples too
    assert reference.returncode == 0, reference.stdout + reference.stderr

    broken = adapter_check(stack, BROKEN)
    assert broken.returncode == 1, broken.stdout
    out = " ".join(broken.stdout.split())
    assert "1 of 6 checks failed: same operation twice (constancia-registro)" in out
    assert "it acted twice" in out

    # The ledger read every result the checks caused and recorded none of them.
    results, letters = bus_state(stack)
    assert results == 3 + 6 + 3  # a run: each service's valid request, the same operation twice
    eventually(lambda: results_read(stack) >= results or None, 30, "the ledger to read the results")
    assert ledger_events(stack) == 0
    # The adapters filed what they could not handle; the ledger filed nothing.
    assert sorted(letters) == sorted([GOOD] * 4 + ["reniec"] * 5 + [BROKEN] * 4)
    listed = subprocess.run(
        [*ventanilla(), "dlq", "list", "--data-dir", str(stack.data_dir)],
        capture_output=True,
        text=True,
        env=stack.env,
        timeout=60,
    )
    # All but the malformed JSON ones (which name no case) are marked as the check's own.
    assert listed.stdout.count("(adapter check)") == len(letters) - 3, listed.stdout


def test_a_case_through_the_generated_procedure_completes(stack: Stack) -> None:
    token = next(iter(stack.credentials.channels.values()))
    view = case_to_its_end(
        stack.credentials.gateway_url,
        token,
        f"constancia-registro-{GOOD}",
        {"purpose": "Trámite en Centro MAC"},
    )
    assert view["status"] == "completed", view
    assert [s["entity"] for s in view["steps"]] == [GOOD]  # type: ignore[union-attr]
