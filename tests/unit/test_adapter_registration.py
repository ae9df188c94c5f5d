"""A handler is bound to its service by the contract object: mypy and start-up refuse a mismatch."""

import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

from schemas.entities.reniec import (
    DUPLICADO_DNI,
    VERIFICACION_IDENTIDAD,
    DniDuplicateIssued,
    DniDuplicateRequest,
    IdentityVerified,
)
from schemas.entities.sat import CERTIFICADO_NO_ADEUDO, NoDebtCertificate, NoDebtRequest
from services.entity_adapters import reniec
from services.entity_adapters.sdk import EntityAdapter, HandlerMismatch, handle

ROOT = Path(__file__).resolve().parents[2]


async def issue(req: DniDuplicateRequest, back_office: object) -> DniDuplicateIssued:
    raise NotImplementedError


async def answers_identity(req: DniDuplicateRequest, back_office: object) -> IdentityVerified:
    raise NotImplementedError


def test_a_handler_registers_under_its_contracts_service() -> None:
    adapter = EntityAdapter("reniec", handlers=(handle(DUPLICADO_DNI, issue),))
    bound = adapter.handler("duplicado-dni")
    assert bound is not None
    assert bound.contract is DUPLICADO_DNI
    assert adapter.handler("verificacion-identidad") is None


def test_the_reference_adapters_offer_exactly_their_contracts() -> None:
    assert {c.service for c in reniec.adapter.contracts} == {
        "duplicado-dni",
        "verificacion-identidad",
    }


def test_start_up_refuses_a_handler_taking_another_services_request() -> None:
    with pytest.raises(HandlerMismatch) as refused:
        handle(VERIFICACION_IDENTIDAD, issue)  # type: ignore[arg-type]
    message = str(refused.value)
    assert "'reniec'" in message
    assert "'verificacion-identidad'" in message
    assert "takes DniDuplicateRequest" in message
    assert "IdentityCheckRequest" in message


def test_start_up_refuses_a_handler_returning_another_services_result() -> None:
    with pytest.raises(HandlerMismatch, match=r"returns IdentityVerified.*DniDuplicateIssued"):
        handle(DUPLICADO_DNI, answers_identity)  # type: ignore[arg-type]


def test_start_up_refuses_an_unannotated_or_synchronous_handler() -> None:
    async def untyped(req, back_office):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def blocking(req: DniDuplicateRequest, back_office: object) -> DniDuplicateIssued:
        raise NotImplementedError

    with pytest.raises(HandlerMismatch, match="not annotated"):
        handle(DUPLICADO_DNI, untyped)
    with pytest.raises(HandlerMismatch, match="not an async function"):
        handle(DUPLICADO_DNI, blocking)  # type: ignore[arg-type]


def test_an_adapter_refuses_another_entitys_contract() -> None:
    async def certificate(req: NoDebtRequest, back_office: object) -> NoDebtCertificate:
        raise NotImplementedError

    with pytest.raises(HandlerMismatch, match="sat/certificado-no-adeudo belongs to another"):
        EntityAdapter("reniec", handlers=(handle(CERTIFICADO_NO_ADEUDO, certificate),))


def test_mypy_refuses_a_handler_bound_to_the_wrong_contract(tmp_path: Path) -> None:
    snippet = tmp_path / "wrong_contract.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from schemas.entities.reniec import (
                DUPLICADO_DNI, VERIFICACION_IDENTIDAD, DniDuplicateIssued, DniDuplicateRequest,
                IdentityVerified,
            )
            from services.entity_adapters.sdk import handle

            async def issue(req: DniDuplicateRequest, back_office: object) -> DniDuplicateIssued:
                raise NotImplementedError

            async def verify(req: DniDuplicateRequest, back_office: object) -> IdentityVerified:
                raise NotImplementedError

            right = handle(DUPLICADO_DNI, issue)
            wrong_request = handle(VERIFICACION_IDENTIDAD, issue)
            wrong_result = handle(DUPLICADO_DNI, verify)
            """
        )
    )
    out, _, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            str(snippet),
        ]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1
    assert [e.split(":")[1] for e in errors] == ["15", "16"], out  # wrong_request, wrong_result
