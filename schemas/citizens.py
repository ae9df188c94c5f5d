"""Who a case is about: a reference to a citizen by an identity document."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.identifiers import Dni
from schemas.personal import IDENTIFIES, NotPersonal

DocumentType = Annotated[Literal["DNI"], NotPersonal("the kind of document, not its number")]


class CitizenRef(BaseModel):
    """A citizen as identified by a Peruvian identity document (personal data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_type: DocumentType = Field(
        description="Identity document type; only DNI (Documento Nacional de Identidad) for now."
    )
    document_number: Annotated[Dni, IDENTIFIES] = Field(
        description="The DNI number: exactly 8 digits.",
        examples=["40000001"],
    )
