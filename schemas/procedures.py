"""The reference procedures that MAC channels can open cases for."""

from datetime import timedelta
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from schemas.catalog import (
    Constant,
    FromCitizen,
    FromInput,
    FromStep,
    ProcedureSpec,
    StepSpec,
    build_catalog,
)
from schemas.entities.reniec import DuplicateReason


class DuplicadoDniInputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: DuplicateReason = Field(
        description="Why a duplicate is needed: perdida (lost), robo (stolen) or deterioro (worn)."
    )


DUPLICADO_DNI = ProcedureSpec(
    code="duplicado-dni",
    title="Duplicado de DNI",
    description="Pay the fee at Banco de la Nación; RENIEC issues a duplicate DNI card.",
    inputs=DuplicadoDniInputs,
    fee_pen="23.40",
    steps=(
        StepSpec(
            id="pago-tasa",
            entity="banco-nacion",
            service="pago-tasa",
            request={
                "citizen": FromCitizen(),
                "procedure": Constant("duplicado-dni"),
                "amount_pen": Constant("23.40"),
            },
            deadline=timedelta(minutes=5),
        ),
        StepSpec(
            id="duplicado-dni",
            entity="reniec",
            service="duplicado-dni",
            after=("pago-tasa",),
            request={
                "citizen": FromCitizen(),
                "reason": FromInput("reason"),
                "payment_receipt": FromStep(
                    "pago-tasa",
                    "receipt_number",
                    purpose="Proof that the duplicate DNI fee was paid",
                ),
            },
            deadline=timedelta(minutes=30),
        ),
    ),
)

REFERENCE_PROCEDURES = (DUPLICADO_DNI,)


@cache
def catalog() -> dict[str, ProcedureSpec]:
    """The validated catalog; composition roots call this at start-up to fail fast."""
    return build_catalog(REFERENCE_PROCEDURES)
