"""Delegation files: one YAML file per delegation, in the `delegations/` folder of a catalog folder.

Read like the procedure files (`schemas/catalog_files.py`): from PyYAML's node tree, so that every
fault names the file and line it sits on, and without stopping at the first fault. The checks
need the procedures, so the delegations are read after the procedure catalog (docs/catalog.md).
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import Node, SequenceNode

from schemas.catalog import CatalogError, ProcedureSpec
from schemas.catalog_files import _Reader, yaml_texts
from schemas.delegations import Delegation
from schemas.entities import ENTITIES

DELEGATIONS_FOLDER = "delegations"
DELEGATION_KEYS = {
    *("id", "administering_entity", "entity", "procedures", "channels"),
    *("instrument", "reference"),
}


@dataclass
class DelegationFile:
    """What one file gave: the delegation (None when it could not be read) and its faults."""

    path: Path
    delegation: Delegation | None
    faults: list[str]
    lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)


def read_delegation(
    path: Path,
    text: str,
    procedures: dict[str, ProcedureSpec],
    channels: Collection[str] | None = None,
) -> DelegationFile:
    """Read one delegation file and check it against `procedures` (and `channels`, when the
    caller knows which channels exist)."""
    reader = _Reader(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reader.fault(line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return DelegationFile(path, None, reader.faults, {})
    if root is None:
        reader.fault(1, "the file is empty")
        return DelegationFile(path, None, reader.faults, {})
    keys = reader.mapping(root, "delegation", DELEGATION_KEYS, DELEGATION_KEYS, at=())
    lines = {str(k[0]): line for k, line in reader.lines.items() if len(k) == 1}
    if keys is None:
        return DelegationFile(path, None, reader.faults, lines)
    delegation_id = reader.text(keys.get("id"), "delegation: id")
    what = f"delegation {delegation_id!r}" if delegation_id else "delegation"
    administering = reader.text(keys.get("administering_entity"), f"{what}: administering_entity")
    entity = reader.text(keys.get("entity"), f"{what}: entity")
    if entity is not None and entity not in ENTITIES:
        known = ", ".join(sorted(ENTITIES))
        reader.fault(keys["entity"], f"{what}: unknown entity {entity!r} (known: {known})")
        entity = None
    codes = _names(reader, keys.get("procedures"), f"{what}: procedures", "procedure codes")
    for node, code in codes:
        proc = procedures.get(code)
        if proc is None:
            known = ", ".join(sorted(procedures))
            reader.fault(node, f"{what}: unknown procedure {code!r} (known: {known})")
        elif entity is not None and entity not in _delivering_entities(proc):
            delivering = ", ".join(sorted(_delivering_entities(proc)))
            reader.fault(
                node,
                f"{what}: procedure {code!r} is not of entity {entity!r} "
                f"(its result comes from {delivering})",
            )
    names = _names(reader, keys.get("channels"), f"{what}: channels", "channel ids")
    for node, channel in names:
        if channels is not None and channel not in channels:
            known = ", ".join(sorted(channels)) or "none"
            reader.fault(node, f"{what}: unknown channel {channel!r} (known: {known})")
    instrument = reader.text(keys.get("instrument"), f"{what}: instrument")
    reference = reader.text(keys.get("reference"), f"{what}: reference")
    if (
        reader.found
        or delegation_id is None
        or administering is None
        or entity is None
        or instrument is None
        or reference is None
    ):
        return DelegationFile(path, None, reader.faults, lines)
    delegation = Delegation(
        id=delegation_id,
        administering_entity=administering,
        entity=entity,
        procedures=tuple(code for _, code in codes),
        channels=tuple(channel for _, channel in names),
        instrument=instrument,
        reference=reference,
    )
    return DelegationFile(path, delegation, [], lines)


def _delivering_entities(proc: ProcedureSpec) -> set[str]:
    """The entities whose steps give the procedure's result: those no other step waits for.
    A procedure is an entity's when the entity delivers it (a fee's bank is not its owner)."""
    waited = {dep for step in proc.steps for dep in step.after}
    return {step.entity for step in proc.steps if step.id not in waited}


def _names(r: _Reader, node: Node | None, what: str, kind: str) -> list[tuple[Node, str]]:
    if node is None:
        return []
    if not isinstance(node, SequenceNode) or not node.value:
        r.fault(node, f"{what} must be a list of at least one of its {kind}")
        return []
    found: list[tuple[Node, str]] = []
    for item in node.value:
        name = r.text(item, what)
        if name is None:
            continue
        if name in (n for _, n in found):
            r.fault(item, f"{what}: {name!r} is given twice")
            continue
        found.append((item, name))
    return found


def load_delegations(
    folders: Iterable[Path],
    procedures: dict[str, ProcedureSpec],
    channels: Collection[str] | None = None,
) -> dict[str, Delegation]:
    """Read the delegation files of every catalog folder's `delegations/` (a folder need not
    have one); raises `CatalogError` naming every fault, each with its file and line."""
    faults: list[str] = []
    found: dict[str, Delegation] = {}
    first: dict[str, DelegationFile] = {}
    for folder in folders:
        for path, text in yaml_texts(folder / DELEGATIONS_FOLDER, faults):
            file = read_delegation(path, text, procedures, channels)
            faults.extend(file.faults)
            delegation = file.delegation
            if delegation is None:
                continue
            if delegation.id in first:
                earlier = first[delegation.id]
                faults.append(
                    f"{path}:{file.line_of('id')}: delegation {delegation.id!r} is declared "
                    f"twice (first in {earlier.path}:{earlier.line_of('id')})"
                )
                continue
            first[delegation.id] = file
            found[delegation.id] = delegation
    if faults:
        raise CatalogError(faults)
    return found
