"""Procedures grouped by the life event that brings a citizen to the counter (OECD practice)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LifeEvent:
    code: str
    title: str  # Spanish, as the counter shows it (translated through the web catalogs)
    procedures: tuple[str, ...]


LIFE_EVENTS = (
    LifeEvent("identidad", "Identidad y viajes", ("duplicado-dni", "pasaporte-electronico")),
    LifeEvent("vehiculo", "Comprar o vender un vehículo", ("transferencia-vehicular",)),
    LifeEvent("negocio", "Empezar un negocio", ("inscripcion-ruc",)),
)
