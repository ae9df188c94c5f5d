"""Procedures grouped by the life event that brings a citizen to the counter (OECD practice).

The groups are fixed here, in the order the pages show them; each procedure file names its group
(`life_event`), so a newly incorporated procedure joins a group without code.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from schemas.catalog import ProcedureSpec

# The pages give each group its Spanish and Quechua title.
LIFE_EVENT_GROUPS = ("identidad", "vehiculo", "negocio")


@dataclass(frozen=True)
class LifeEvent:
    code: str
    procedures: tuple[str, ...]


def life_events(catalog: Mapping[str, ProcedureSpec]) -> tuple[LifeEvent, ...]:
    """Every group with the catalog's procedures in it, in catalog order."""
    return tuple(
        LifeEvent(group, tuple(p.code for p in catalog.values() if p.life_event == group))
        for group in LIFE_EVENT_GROUPS
    )
