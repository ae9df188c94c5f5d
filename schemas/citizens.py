"""Who a case is about: a reference to a citizen by an identity document."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DNI_PATTERN = r"^\d{8}$"


class CitizenRef(BaseModel):
    """A citizen as identified by a Peruvian identity document (personal data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_type: Literal["DNI"] = Field(
        description="Identity document type; only DNI (Documento Nacional de Identidad) for now."
    )
    document_number: str = Field(
        pattern=DNI_PATTERN,
        description="The DNI number: exactly 8 digits.",
        examples=["40000001"],
    )
