"""Who a case is about: a reference to a citizen by an identity document."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.identifiers import Dni


class CitizenRef(BaseModel):
    """A citizen as identified by a Peruvian identity document (personal data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_type: Literal["DNI"] = Field(
        description="Identity document type; only DNI (Documento Nacional de Identidad) for now."
    )
    document_number: Dni = Field(
        description="The DNI number: exactly 8 digits.",
        examples=["40000001"],
    )
