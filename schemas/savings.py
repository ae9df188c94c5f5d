"""The citizen's savings: what the bus spared them, from declared per-service assumptions.

`schemas/catalog/assumptions/savings.yaml` says, per service of an entity, what getting its
document in person would cost a citizen (trips, hours, soles). Each `DataShared` from a step of
such a service replaced that document. The method and the rule for rejected and erased cases
are in docs/impact.md.
"""

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.entities import SERVICES

ASSUMPTIONS_FILE = Path(__file__).parent / "catalog" / "assumptions" / "savings.yaml"


class InvalidAssumptions(ValueError):
    """The assumptions file does not say what the figures need (or says it twice)."""


class ServiceAssumption(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: str
    service: str
    document: str = Field(min_length=1, description="What the citizen would have fetched.")
    trips: int = Field(ge=0, description="Trips to the entity to get it in person.")
    hours: float = Field(ge=0, description="Hours it would take, travel and queue included.")
    soles: float = Field(ge=0, description="What it would cost: fee, fare, time off work.")


class SavingsAssumptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: Literal["demo-assumption", "measured"] = Field(
        description="demo-assumption: illustrative values; measured: from a survey."
    )
    currency: Literal["PEN"]
    services: tuple[ServiceAssumption, ...]

    @model_validator(mode="after")
    def _known_and_once(self) -> "SavingsAssumptions":
        seen: set[tuple[str, str]] = set()
        for item in self.services:
            key = (item.entity, item.service)
            if key not in SERVICES:
                raise ValueError(f"{item.entity}/{item.service} is no service of the catalog")
            if key in seen:
                raise ValueError(f"{item.entity}/{item.service} is assumed twice")
            seen.add(key)
        return self

    def of(self, entity: str, service: str) -> ServiceAssumption | None:
        return next((s for s in self.services if (s.entity, s.service) == (entity, service)), None)


def parse_assumptions(text: str) -> SavingsAssumptions:
    try:
        return SavingsAssumptions.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise InvalidAssumptions(str(exc)) from None


@cache
def savings_assumptions(path: Path = ASSUMPTIONS_FILE) -> SavingsAssumptions:
    return parse_assumptions(path.read_text(encoding="utf-8"))


class DocumentSpared(BaseModel):
    """One document a case's citizen did not bring: a step's data shared with another step."""

    model_config = ConfigDict(frozen=True)

    entity: str
    service: str
    trips: int
    hours: float
    soles: float


class CaseSavings(BaseModel):
    model_config = ConfigDict(frozen=True)

    documents: int = Field(description="Documents the citizen did not have to bring.")
    entities: int = Field(description="Entities they did not have to visit.")
    trips: int
    hours: float
    soles: float


def case_savings(spared: Iterable[DocumentSpared]) -> CaseSavings:
    """A case's savings: each document once; the entities are those the documents come from."""
    unique = {(d.entity, d.service): d for d in spared}
    return CaseSavings(
        documents=len(unique),
        entities=len({entity for entity, _ in unique}),
        trips=sum(d.trips for d in unique.values()),
        hours=round(sum(d.hours for d in unique.values()), 6),
        soles=round(sum(d.soles for d in unique.values()), 6),
    )
