"""An entity package written outside this repository plugs in through its entry point.

The package is written to a temporary folder, installed there with pip (`--target`, so the
project's venv is untouched) and put on PYTHONPATH for `ventanilla up`; its procedure file goes
into the data dir's catalog/ folder: its adapter runs, its procedure is in the catalog, a case
through it completes, the gateway's bus contract (`/asyncapi.json`) lists its subjects, and its
NATS user can reach nothing but its own subjects. A broken package, back office or procedure
file stops `up` before anything starts.
"""

import asyncio
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import nats
import pytest

from harness.up import UpStack
from schemas import subjects
from services.datadir import DataDir
from services.stack.natsd import EmbeddedNats
from tests.http import case_to_its_end
from tests.processes import (
    asyncapi_parser,
    env_with,
    pip_install,
    running_up,
    ventanilla,
)

pytestmark = pytest.mark.e2e

ENTITY = "notaria-lima"
# A case id for subjects that must be refused whatever case they name.
CASE = UUID(int=7)
PACKAGE = "ventanilla_notaria"

MODULE = '''
"""Notaría de Lima: certifies a citizen's signature on a deed (an example entity package)."""

from pydantic import BaseModel, ConfigDict, Field

from schemas.citizens import CitizenRef
from schemas.entities.base import ServiceContract, ServiceRequest, ServiceResult
from services.entity_adapters.package import EntityPackage
from services.entity_adapters.sdk import EntityAdapter, handle

ENTITY = "notaria-lima"


class SignatureRequest(ServiceRequest):
    citizen: CitizenRef
    deed: str = Field(description="Title of the deed the citizen signs.")


class SignatureCertified(ServiceResult):
    certificate_number: str


LEGALIZACION_FIRMA = ServiceContract(
    ENTITY, "legalizacion-firma", "Signature certification", SignatureRequest, SignatureCertified
)


class FakeNotary:
    def __init__(self, effects: object) -> None:
        self.certified: dict[str, str] = {}

    async def certify(self, deed: str, idempotency_key: str) -> str:
        return self.certified.setdefault(idempotency_key, f"NOT-{len(self.certified) + 1:05d}")


async def legalizacion_firma(req: SignatureRequest, notary: FakeNotary) -> SignatureCertified:
    number = await notary.certify(req.deed, str(req.operation_id))
    return SignatureCertified(certificate_number=number)


class Inputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    deed: str = Field(description="Title of the deed.")


def sunarp_office(effects: object) -> object:
    """Another back office for SUNARP, configured with `--back-office`; says it was built."""
    import os
    from pathlib import Path

    from services.entity_adapters.backoffices.sunarp import FakeSunarp

    Path(os.environ["NOTARIA_SUNARP_BUILT"]).write_text("built")
    return FakeSunarp(effects)


package = EntityPackage(
    ENTITY,
    "Notaría de Lima",
    EntityAdapter(ENTITY, handlers=(handle(LEGALIZACION_FIRMA, legalizacion_firma),)),
    FakeNotary,
)
'''

# The notary's procedure, as the administrator drops it into the data dir's catalog/ folder.
PROCEDURE = """\
code: legalizacion-firma
title: Legalización de firma
description: A notary certifies the citizen's signature on a deed.
life_event: negocio
inputs:
  model: ventanilla_notaria:Inputs
  examples:
    - {deed: Compraventa de terreno}
steps:
  - id: legalizacion-firma
    entity: notaria-lima
    service: legalizacion-firma
    request:
      citizen: {from: citizen}
      deed: {from: input, name: deed}
    deadline: {within: 10m, agreement: ANS MAC-Notaría de Lima 2026}
"""

BROKEN_MODULE = """
from schemas.entities.reniec import VERIFICACION_IDENTIDAD
from services.entity_adapters.package import EntityPackage
from services.entity_adapters.sdk import EntityAdapter, handle
from schemas.entities.reniec import DniDuplicateIssued, DniDuplicateRequest


async def wrong(req: DniDuplicateRequest, office: object) -> DniDuplicateIssued:
    raise NotImplementedError


adapter = EntityAdapter("reniec", handlers=(handle(VERIFICACION_IDENTIDAD, wrong),))
package = EntityPackage("reniec-bis", "Broken", adapter, object)
"""


def pyproject(name: str, module: str) -> str:
    return textwrap.dedent(
        f"""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "0.1.0"

        [tool.setuptools]
        py-modules = ["{module}"]

        [project.entry-points."ventanilla.entities"]
        {name} = "{module}:package"
        """
    )


def install_package(root: Path, name: str, module: str, code: str) -> Path:
    """Write and pip-install a one-module package into its own folder; returns that folder."""
    source, target = root / f"{name}-src", root / f"{name}-site"
    source.mkdir()
    (source / "pyproject.toml").write_text(pyproject(name, module))
    (source / f"{module}.py").write_text(code)
    return pip_install(source, target)


def up_env(*sites: Path) -> dict[str, str]:
    return env_with(*sites)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_package(tmp_path_factory.mktemp("pkg"), ENTITY, PACKAGE, MODULE)


@pytest.fixture(scope="module")
def stack(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpStack]:
    root = tmp_path_factory.mktemp("up")
    data_dir = root / "var"
    DataDir(data_dir).catalog.mkdir(parents=True)
    (DataDir(data_dir).catalog / "legalizacion-firma.yaml").write_text(PROCEDURE)
    with running_up(data_dir, root / "up.out", up_env(site)) as up:
        yield up


def test_a_case_through_the_outside_entitys_procedure_completes(stack: UpStack) -> None:
    token = next(iter(stack.credentials.channels.values()))
    view = case_to_its_end(
        stack.credentials.gateway_url,
        token,
        "legalizacion-firma",
        {"deed": "Compraventa de terreno"},
    )
    assert view["status"] == "completed"
    assert [s["entity"] for s in view["steps"]] == [ENTITY]  # type: ignore[union-attr]


def test_the_bus_contract_lists_the_outside_entitys_subjects(
    stack: UpStack, tmp_path: Path
) -> None:
    served = httpx.get(f"{stack.credentials.gateway_url}/asyncapi.json", timeout=30.0)
    assert served.status_code == 200
    document = served.json()
    work, result = document["channels"][f"work.{ENTITY}"], document["channels"][f"result.{ENTITY}"]
    assert work["address"] == subjects.work(ENTITY, "{service}")
    assert result["address"] == subjects.result(ENTITY, "{service}", "{case}")
    assert work["parameters"]["service"]["enum"] == ["legalizacion-firma"]
    assert document["operations"][f"adapter-{ENTITY}"]["action"] == "receive"
    assert ENTITY in document["channels"]["dlq"]["parameters"]["origin"]["enum"]
    request = document["components"]["schemas"]["SignatureRequest"]
    assert request["properties"]["deed"]["description"] == "Title of the deed the citizen signs."
    written = tmp_path / "asyncapi.json"
    written.write_text(served.text, encoding="utf-8")
    checked = asyncapi_parser(written)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_outside_entitys_nats_user_reaches_only_its_own_subjects(stack: UpStack) -> None:
    seed = DataDir(stack.data_dir).nats_store / "users" / f"{ENTITY}.nk"
    assert seed.exists()

    async def attempts() -> list[str]:
        refused: list[str] = []

        async def record(exc: Exception) -> None:
            refused.append(str(exc))

        nc = await nats.connect(
            stack.credentials.nats_url,
            nkeys_seed=str(seed),
            inbox_prefix=f"_INBOX.{ENTITY}",
            error_cb=record,
            allow_reconnect=False,
        )
        try:
            await nc.subscribe(subjects.entity_work("reniec"))
            await nc.subscribe(subjects.EVENTS_SUBJECTS)
            await nc.publish(subjects.result("reniec", "duplicado-dni", CASE), b"{}")
            await nc.publish(subjects.submit_case("mac-lima-norte", CASE), b"{}")
            await nc.publish(f"$JS.API.CONSUMER.INFO.{subjects.WORK_STREAM}.adapter-reniec", b"")
            await nc.publish(f"$JS.API.STREAM.UPDATE.{subjects.WORK_STREAM}", b"{}")
            await nc.publish(subjects.result(ENTITY, "legalizacion-firma", CASE), b"not a result")
            async with asyncio.timeout(5):
                while len(refused) < 6:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # a seventh refusal, if any, would arrive now
        finally:
            await nc.close()
        return refused

    refused = "\n".join(asyncio.run(attempts()))
    for forbidden in (
        f'Subscription to "{subjects.entity_work("reniec")}"',
        f'Subscription to "{subjects.EVENTS_SUBJECTS}"',
        f'Publish to "{subjects.result("reniec", "duplicado-dni", CASE)}"',
        f'Publish to "{subjects.submit_case("mac-lima-norte", CASE)}"',
        'Publish to "$JS.API.CONSUMER.INFO.',
        'Publish to "$JS.API.STREAM.UPDATE.',
    ):
        assert forbidden.lower() in refused.lower(), refused
    assert f"result.{ENTITY}" not in refused  # its own results it may publish


def test_deploy_nats_config_and_topology_pick_up_the_outside_entity(
    site: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "nats"
    written = subprocess.run(
        [*ventanilla(), "deploy", "nats-config", "--data-dir", str(tmp_path), "--out", str(folder)],
        capture_output=True,
        text=True,
        env=up_env(site),
        timeout=60,
    )
    assert written.returncode == 0, written.stdout + written.stderr
    assert (folder / "users" / f"{ENTITY}.nk").exists()
    server = EmbeddedNats(store_dir=tmp_path / "store", config_file=folder / "nats-server.conf")
    server.start()
    try:
        applied = subprocess.run(
            [
                *ventanilla(),
                *("deploy", "topology", "--nats-url", server.url),
                *("--credentials", str(folder / "users" / "admin.nk")),
            ],
            capture_output=True,
            text=True,
            env=up_env(site),
            timeout=60,
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr

        async def consumer_filter() -> str | None:
            nc = await nats.connect(server.url, nkeys_seed=str(folder / "users" / "admin.nk"))
            try:
                info = await nc.jetstream().consumer_info(
                    subjects.WORK_STREAM, subjects.adapter_consumer(ENTITY)
                )
                return info.config.filter_subject
            finally:
                await nc.close()

        assert asyncio.run(consumer_filter()) == subjects.entity_work(ENTITY)
    finally:
        server.stop()


def test_a_configured_back_office_replaces_the_reference_http_one(
    site: Path, tmp_path: Path
) -> None:
    built = tmp_path / "sunarp-office-built"
    env = {**up_env(site), "NOTARIA_SUNARP_BUILT": str(built)}
    configured = ("--back-office", f"sunarp={PACKAGE}:sunarp_office")
    with running_up(tmp_path / "var", tmp_path / "up.out", env, *configured) as up:
        up.child("ventanilla adapter sunarp")
        deadline = time.monotonic() + 30
        while not built.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert built.read_text() == "built"  # the adapter built the configured back office
        # The reference HTTP back office is not run.
        assert not [a for a in up.children().values() if a.startswith("ventanilla backoffice")]


def test_up_stops_at_start_up_on_a_back_office_that_cannot_be_imported(
    site: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            *ventanilla(),
            *("up", "--data-dir", str(tmp_path / "var"), "--http-port", "0", "--nats-port", "0"),
            *("--back-office", f"{ENTITY}=nowhere_to_be_found:factory"),
        ],
        capture_output=True,
        text=True,
        env=up_env(site),
        timeout=60,
    )
    assert done.returncode == 1
    assert "nowhere_to_be_found:factory" in done.stdout
    assert f"entity '{ENTITY}'" in done.stdout
    assert "cannot be imported" in done.stdout
    assert not (tmp_path / "var" / "logs" / "ledger.log").exists()  # nothing was started


def test_up_stops_at_start_up_on_a_package_whose_contract_is_invalid(
    site: Path, tmp_path: Path
) -> None:
    broken = install_package(tmp_path, "reniec-bis", "ventanilla_broken", BROKEN_MODULE)
    done = subprocess.run(
        [
            *ventanilla(),
            *("up", "--data-dir", str(tmp_path / "var"), "--http-port", "0", "--nats-port", "0"),
        ],
        capture_output=True,
        text=True,
        env=up_env(site, broken),
        timeout=60,
    )
    assert done.returncode == 1
    out = " ".join(done.stdout.split())
    assert "entity package 'reniec-bis'" in out
    assert "takes DniDuplicateRequest" in out


def test_up_stops_at_start_up_on_a_broken_procedure_file_naming_every_fault(
    site: Path, tmp_path: Path
) -> None:
    catalog = DataDir(tmp_path / "var").catalog
    catalog.mkdir(parents=True)
    broken = (
        PROCEDURE.replace("service: legalizacion-firma", "service: legalizar")
        .replace("within: 10m", "within: ten minutes")
        .replace("life_event: negocio", "life_event: negocio\nfees: 1")
    )
    (catalog / "legalizacion-firma.yaml").write_text(broken)
    (catalog / "otra.yaml").write_text(
        PROCEDURE.replace("code: legalizacion-firma", "code: otra").replace(
            "name: deed", "name: escritura"
        )
    )
    done = subprocess.run(
        [
            *ventanilla(),
            *("up", "--data-dir", str(tmp_path / "var"), "--http-port", "0", "--nats-port", "0"),
        ],
        capture_output=True,
        text=True,
        env=up_env(site),
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    for fault in (
        f"{catalog / 'legalizacion-firma.yaml'}:5: procedure: unknown key 'fees'",
        f"{catalog / 'legalizacion-firma.yaml'}:13: procedure 'legalizacion-firma', step "
        f"'legalizacion-firma': entity '{ENTITY}' offers no service 'legalizar'",
        f"{catalog / 'legalizacion-firma.yaml'}:17: step 'legalizacion-firma': deadline: within: "
        "'ten minutes' is not a duration",
        f"{catalog / 'otra.yaml'}:15: procedure 'otra', step 'legalizacion-firma': field 'deed' "
        "reads unknown input 'escritura'",
    ):
        assert any(line.strip().startswith(fault) for line in lines), (fault, done.stdout)
    assert not DataDir(tmp_path / "var").nats_store.exists()  # the bus never started
