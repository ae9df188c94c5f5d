"""What a channel submits for each reference procedure (each procedure file names its model).

An outside entity keeps its procedures' input models in its own package, next to its contract.
"""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.entities.reniec import DuplicateReason
from schemas.identifiers import CiiuCode, Dni, Plate
from schemas.personal import IDENTIFIES


class DuplicadoDniInputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: DuplicateReason = Field(
        description="Why a duplicate is needed: perdida (lost), robo (stolen) or deterioro (worn)."
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
