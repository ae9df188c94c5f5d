"""The reference procedures that MAC channels can open cases for.

The citizen of a case is its applicant (for a vehicle transfer, the buyer). Fees in soles.
"""

from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.catalog import (
    CitizenFromInput,
    Compensation,
    Constant,
    FromCitizen,
    FromInput,
    FromStep,
    ProcedureSpec,
    StepSpec,
    build_catalog,
)
from schemas.entities import registered_entities
from schemas.entities.reniec import DuplicateReason
from schemas.identifiers import CiiuCode, Dni, Plate
from schemas.personal import IDENTIFIES


def _fee(procedure: str, amount: str, after: tuple[str, ...] = ()) -> StepSpec:
    """Banco de la Nación collects a procedure's fee, and refunds it if the case fails later."""
    return StepSpec(
        id="pago-tasa",
        entity="banco-nacion",
        service="pago-tasa",
        request={
            "citizen": FromCitizen(),
            "procedure": Constant(procedure),
            "amount_pen": Constant(amount),
        },
        deadline=timedelta(minutes=5),
        compensation=Compensation(
            service="devolucion-tasa",
            request={
                "citizen": FromCitizen(),
                "receipt_number": FromStep(
                    "pago-tasa", "receipt_number", purpose="Refund of the fee paid"
                ),
                "amount_pen": FromStep("pago-tasa", "amount_pen", purpose="Refund of the fee paid"),
            },
        ),
        after=after,
    )


def _identity(step_id: str, citizen: FromCitizen | CitizenFromInput) -> StepSpec:
    return StepSpec(
        id=step_id,
        entity="reniec",
        service="verificacion-identidad",
        request={"citizen": citizen},
        deadline=timedelta(minutes=2),
    )


def _from_identity(field: str, purpose: str) -> FromStep:
    return FromStep("identidad", field, purpose=purpose)


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
        _fee("duplicado-dni", "23.40"),
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


class PasaporteInputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TransferenciaVehicularInputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    plate: Plate
    seller_dni: Annotated[Dni, IDENTIFIES] = Field(description="DNI of the seller (8 digits).")
    price_pen: Decimal = Field(gt=0, max_digits=12, decimal_places=2, description="Price in soles.")


class InscripcionRucInputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    activity_code: CiiuCode = Field(
        description="CIIU code of the main economic activity, e.g. 4711."
    )


PASAPORTE_ELECTRONICO = ProcedureSpec(
    code="pasaporte-electronico",
    title="Pasaporte electrónico",
    description="RENIEC confirms the identity while the fee is paid at Banco de la Nación; "
    "Migraciones issues the passport with both, without asking the citizen again.",
    inputs=PasaporteInputs,
    fee_pen="120.90",
    steps=(
        _identity("identidad", FromCitizen()),
        _fee("pasaporte-electronico", "120.90"),
        StepSpec(
            id="emision-pasaporte",
            entity="migraciones",
            service="emision-pasaporte",
            after=("identidad", "pago-tasa"),
            request={
                "citizen": FromCitizen(),
                "identity_verification": _from_identity(
                    "verification_code", "Proof of identity for the passport"
                ),
                "given_names": _from_identity(
                    "given_names", "Holder's name printed on the passport"
                ),
                "surnames": _from_identity("surnames", "Holder's name printed on the passport"),
                "birth_date": _from_identity("birth_date", "Holder's birth date on the passport"),
                "payment_receipt": FromStep(
                    "pago-tasa", "receipt_number", purpose="Proof that the passport fee was paid"
                ),
            },
            deadline=timedelta(minutes=30),
        ),
    ),
)

TRANSFERENCIA_VEHICULAR = ProcedureSpec(
    code="transferencia-vehicular",
    title="Transferencia vehicular",
    description="RENIEC checks buyer and seller, SAT certifies no vehicle tax debt and SUNARP "
    "the seller's ownership, all at once; then the fee is paid and SUNARP registers the "
    "transfer. If SUNARP refuses after the payment, Banco de la Nación refunds the fee.",
    inputs=TransferenciaVehicularInputs,
    fee_pen="52.00",
    steps=(
        _identity("identidad-comprador", FromCitizen()),
        _identity("identidad-vendedor", CitizenFromInput("seller_dni")),
        StepSpec(
            id="no-adeudo",
            entity="sat",
            service="certificado-no-adeudo",
            request={"citizen": FromCitizen(), "plate": FromInput("plate")},
            deadline=timedelta(minutes=10),
        ),
        StepSpec(
            id="propiedad",
            entity="sunarp",
            service="certificado-propiedad",
            request={"plate": FromInput("plate"), "owner": CitizenFromInput("seller_dni")},
            deadline=timedelta(minutes=10),
        ),
        _fee(
            "transferencia-vehicular",
            "52.00",
            after=("identidad-comprador", "identidad-vendedor", "no-adeudo", "propiedad"),
        ),
        StepSpec(
            id="inscripcion",
            entity="sunarp",
            service="inscripcion-transferencia",
            after=("pago-tasa",),
            request={
                "plate": FromInput("plate"),
                "seller": CitizenFromInput("seller_dni"),
                "buyer": FromCitizen(),
                "price_pen": FromInput("price_pen"),
                "ownership_certificate": FromStep(
                    "propiedad", "certificate_number", purpose="Seller's ownership"
                ),
                "no_debt_certificate": FromStep(
                    "no-adeudo",
                    "certificate_number",
                    purpose="No pending vehicle tax, required to register a transfer",
                ),
                "payment_receipt": FromStep(
                    "pago-tasa", "receipt_number", purpose="Proof that the registry fee was paid"
                ),
            },
            deadline=timedelta(hours=1),
        ),
    ),
)

INSCRIPCION_RUC = ProcedureSpec(
    code="inscripcion-ruc",
    title="Inscripción en el RUC",
    description="RENIEC confirms the identity; SUNAT registers the citizen as a taxpayer "
    "with the name RENIEC holds.",
    inputs=InscripcionRucInputs,
    steps=(
        _identity("identidad", FromCitizen()),
        StepSpec(
            id="inscripcion-ruc",
            entity="sunat",
            service="inscripcion-ruc",
            after=("identidad",),
            request={
                "citizen": FromCitizen(),
                "activity_code": FromInput("activity_code"),
                "identity_verification": _from_identity(
                    "verification_code", "Proof of identity for the taxpayer registry"
                ),
                "given_names": _from_identity("given_names", "Taxpayer's registered name"),
                "surnames": _from_identity("surnames", "Taxpayer's registered name"),
            },
            deadline=timedelta(minutes=30),
        ),
    ),
)


@cache
def catalog() -> dict[str, ProcedureSpec]:
    """The validated catalog of every registered entity's procedures (the reference ones among
    them, offered by their entities' packages); composition roots call this at start-up to fail
    fast."""
    return build_catalog(tuple(p for e in registered_entities() for p in e.procedures))
