"""A catalog that cannot work is refused at start-up, with a message naming the fault."""

from dataclasses import replace

import pytest

from schemas.catalog import CatalogError, Constant, FromInput, FromStep, build_catalog
from schemas.procedures import DUPLICADO_DNI, catalog

FEE, DUPLICATE = DUPLICADO_DNI.steps


def with_steps(*steps):  # type: ignore[no-untyped-def]
    return replace(DUPLICADO_DNI, steps=steps)


def test_the_reference_catalog_is_valid() -> None:
    assert "duplicado-dni" in catalog()


@pytest.mark.parametrize(
    ("procedure", "message"),
    [
        (with_steps(replace(FEE, entity="sunafil"), DUPLICATE), "unknown entity 'sunafil'"),
        (with_steps(replace(FEE, service="refund"), DUPLICATE), "offers no service 'refund'"),
        (
            with_steps(FEE, replace(DUPLICATE, after=("pago",))),
            "depends on unknown step 'pago'",
        ),
        (
            with_steps(FEE, replace(DUPLICATE, after=())),
            "reads step 'pago-tasa', which it does not wait for",
        ),
        (
            with_steps(
                FEE,
                replace(
                    DUPLICATE,
                    request={
                        **DUPLICATE.request,
                        "payment_receipt": FromStep("pago-tasa", "voucher", purpose="proof"),
                    },
                ),
            ),
            "unknown result field 'voucher'",
        ),
        (
            with_steps(
                FEE,
                replace(DUPLICATE, request={**DUPLICATE.request, "reason": FromInput("motivo")}),
            ),
            "reads unknown input 'motivo'",
        ),
        (
            with_steps(
                FEE, replace(DUPLICATE, request={**DUPLICATE.request, "colour": Constant(1)})
            ),
            "has no field 'colour'",
        ),
        (
            with_steps(
                FEE,
                replace(
                    DUPLICATE,
                    request={k: v for k, v in DUPLICATE.request.items() if k != "reason"},
                ),
            ),
            "nothing provides required request field 'reason'",
        ),
        (
            with_steps(replace(FEE, after=("duplicado-dni",)), DUPLICATE),
            "cyclic dependency",
        ),
        (with_steps(), "has no steps"),
    ],
)
def test_a_broken_procedure_is_refused_naming_the_fault(procedure, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CatalogError, match=message) as refused:
        build_catalog((procedure,))
    assert "duplicado-dni" in str(refused.value)


def test_a_procedure_declared_twice_is_refused() -> None:
    with pytest.raises(CatalogError, match="declared twice"):
        build_catalog((DUPLICADO_DNI, DUPLICADO_DNI))
