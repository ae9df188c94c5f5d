"""Delegations: which advisors may take which entities' procedures, where, and under what.

A Centro MAC or MAC Express advisor is staff of the administering entity (the PCM's Secretaría de
Gestión Pública), not of RENIEC or SUNARP. They may take an entity's procedure at a channel only
under an instrument the law already allows (a convenio de colaboración interinstitucional), and
the case records which one. A clerk account names the delegations it works under.

Delegations are catalog data: one YAML file each in the `delegations/` folder of a catalog
folder (docs/catalog.md, read by `schemas/delegation_files.py`), loaded and checked with the
procedures at start-up.
"""

from dataclasses import dataclass

# The reference delegations' administering entity and channels (schemas/catalog/delegations/).
ADMINISTERING_ENTITY = "pcm-sgp"
ADMINISTERING_ENTITY_NAME = "Presidencia del Consejo de Ministros — Secretaría de Gestión Pública"

CENTRO_MAC_LIMA_NORTE = "mac-lima-norte"
MAC_EXPRESS_PIAS_NAPO = "mac-express-pias-napo"


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


def delegations() -> dict[str, Delegation]:
    """The delegations of every catalog folder by id, checked against the procedure catalog."""
    # Imported here: the catalog's loader builds this module's `Delegation`s.
    from schemas.procedures import catalog_delegations

    return catalog_delegations()


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
