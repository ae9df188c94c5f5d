"""Procedures grouped by the life event that brings a citizen to the counter (OECD practice)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LifeEvent:
    code: str  # the pages give it its Spanish and Quechua title
    procedures: tuple[str, ...]


LIFE_EVENTS = (
    LifeEvent("identidad", ("duplicado-dni", "pasaporte-electronico")),
    LifeEvent("vehiculo", ("transferencia-vehicular",)),
    LifeEvent("negocio", ("inscripcion-ruc",)),
)
