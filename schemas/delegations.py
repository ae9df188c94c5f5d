"""Delegations: which advisors may take which entities' procedures, where, and under what.

A Centro MAC or MAC Express advisor is staff of the administering entity (the PCM's Secretaría de
Gestión Pública), not of RENIEC or SUNARP. They may take an entity's procedure at a channel only
under an instrument the law already allows (a convenio de colaboración interinstitucional), and
the case records which one. A clerk account names the delegations it works under.
"""

from dataclasses import dataclass
from functools import cache

from schemas.procedures import catalog

ADMINISTERING_ENTITY = "pcm-sgp"
ADMINISTERING_ENTITY_NAME = "Presidencia del Consejo de Ministros — Secretaría de Gestión Pública"

CENTRO_MAC_LIMA_NORTE = "mac-lima-norte"
MAC_EXPRESS_PIAS_NAPO = "mac-express-pias-napo"


class DelegationError(ValueError):
    """The delegations name a procedure or a delegation that does not exist."""


@dataclass(frozen=True)
class Delegation:
    id: str
    administering_entity: str  # whose advisors act
    entity: str  # the entity whose procedures they may take
    procedures: tuple[str, ...]
    channels: tuple[str, ...]
    instrument: str  # the kind of legal instrument, e.g. a convenio
    reference: str  # its number, as signed

    def covers(self, procedure: str, channel: str) -> bool:
        return procedure in self.procedures and channel in self.channels


def _convenio(entity: str, number: str, procedures: tuple[str, ...], *channels: str) -> Delegation:
    return Delegation(
        id=f"convenio-{entity}-{number}",
        administering_entity=ADMINISTERING_ENTITY,
        entity=entity,
        procedures=procedures,
        channels=channels,
        instrument="Convenio de colaboración interinstitucional",
        reference=f"Convenio N.° {number}-PCM/SGP",
    )


REFERENCE_DELEGATIONS = (
    _convenio(
        "reniec", "014-2025", ("duplicado-dni",), CENTRO_MAC_LIMA_NORTE, MAC_EXPRESS_PIAS_NAPO
    ),
    _convenio(
        "migraciones",
        "021-2025",
        ("pasaporte-electronico",),
        CENTRO_MAC_LIMA_NORTE,
        MAC_EXPRESS_PIAS_NAPO,
    ),
    _convenio("sunarp", "007-2026", ("transferencia-vehicular",), CENTRO_MAC_LIMA_NORTE),
    _convenio("sunat", "011-2026", ("inscripcion-ruc",), CENTRO_MAC_LIMA_NORTE),
)


@cache
def delegations() -> dict[str, Delegation]:
    """The delegations by id, checked against the procedure catalog."""
    procedures = catalog()
    found: dict[str, Delegation] = {}
    for delegation in REFERENCE_DELEGATIONS:
        if delegation.id in found:
            raise DelegationError(f"delegation {delegation.id!r} is declared twice")
        unknown = [p for p in delegation.procedures if p not in procedures]
        if unknown:
            raise DelegationError(
                f"delegation {delegation.id!r} names unknown procedures {unknown}"
            )
        found[delegation.id] = delegation
    return found


def delegation_for(names: tuple[str, ...], procedure: str, channel: str) -> Delegation | None:
    """The first of a clerk's delegations that lets them take `procedure` at `channel`."""
    known = delegations()
    for name in names:
        delegation = known.get(name)
        if delegation is not None and delegation.covers(procedure, channel):
            return delegation
    return None


def delegations_at(channel: str) -> tuple[str, ...]:
    """Every delegation that covers some procedure at `channel` (a demo clerk's full set)."""
    return tuple(d.id for d in delegations().values() if channel in d.channels)
