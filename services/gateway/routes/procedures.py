"""The procedure catalog, public: which procedures exist, what they cost and what they take."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from schemas.catalog import ProcedureSpec


class Fee(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: str = Field(description="Decimal amount, as a string to keep it exact.")
    currency: str = "PEN"


class StepOutline(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    entity: str = Field(description="The institution that performs the step.")
    service: str
    after: list[str] = Field(description="Steps that must complete first.")


class ProcedureOutline(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    title: str
    description: str
    fee: Fee | None
    steps: list[StepOutline]
    inputs_schema: dict[str, Any] = Field(
        description="JSON Schema of the procedure's `inputs`, with valid `examples`."
    )


def outline(proc: ProcedureSpec) -> ProcedureOutline:
    return ProcedureOutline(
        code=proc.code,
        title=proc.title,
        description=proc.description,
        fee=Fee(amount=proc.fee_pen) if proc.fee_pen else None,
        steps=[
            StepOutline(id=s.id, entity=s.entity, service=s.service, after=list(s.after))
            for s in proc.steps
        ],
        inputs_schema=proc.input_schema(),
    )


def procedure_routes(catalog: dict[str, ProcedureSpec]) -> APIRouter:
    router = APIRouter(prefix="/v1/procedures", tags=["procedures"])
    outlines = [outline(p) for p in catalog.values()]

    @router.get("", summary="The procedures a case can be opened for")
    async def list_procedures() -> list[ProcedureOutline]:
        """Public: the catalog holds no personal data and channels need it before any case."""
        return outlines

    return router
