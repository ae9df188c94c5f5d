"""The procedure catalog: every procedure file of the catalog folders, read and checked at once.

The folders, in order (docs/catalog.md):
- `schemas/catalog/`, shipped with Ventanilla (the four reference procedures);
- `<data dir>/catalog/`, where an administrator drops the files of a newly incorporated entity
  (registered by whoever knows the data dir, see `use_data_dir_catalog`);
- the folders named in `$VENTANILLA_CATALOG_DIRS`, separated like PATH.

Only the `*.yaml` files directly in each folder are procedures; the `*.yaml` files of its
`delegations/` subfolder are delegations (`schemas/delegations.py`); other subfolders are left
alone. A procedure code or delegation id given twice, in the same folder or across folders, is a
fault like any other.
The citizen of a case is its applicant (for a vehicle transfer, the buyer). Fees in soles.
"""

import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from schemas.catalog import CatalogError, ProcedureSpec
from schemas.catalog_files import ProcedureFile, read_procedure, yaml_texts
from schemas.delegation_files import load_delegations
from schemas.delegations import Delegation
from schemas.inputs import (
    DuplicadoDniInputs,
    InscripcionRucInputs,
    PasaporteInputs,
    TransferenciaVehicularInputs,
)

__all__ = [
    "CATALOG_DIRS_ENV",
    "SHIPPED_CATALOG",
    "DuplicadoDniInputs",
    "InscripcionRucInputs",
    "PasaporteInputs",
    "TransferenciaVehicularInputs",
    "catalog",
    "catalog_delegations",
    "catalog_folders",
    "forget_catalog",
    "load_catalog",
    "use_data_dir_catalog",
]

SHIPPED_CATALOG = Path(__file__).parent / "catalog"
CATALOG_DIRS_ENV = "VENTANILLA_CATALOG_DIRS"

# The data dir catalog folders this process was told of (normally one, its `--data-dir`'s).
_data_dir_folders: list[Path] = []

# The reference procedures by the names the code and tests have always used for them.
_REFERENCE = {
    "DUPLICADO_DNI": "duplicado-dni",
    "PASAPORTE_ELECTRONICO": "pasaporte-electronico",
    "TRANSFERENCIA_VEHICULAR": "transferencia-vehicular",
    "INSCRIPCION_RUC": "inscripcion-ruc",
}


def use_data_dir_catalog(folder: Path) -> None:
    """Read `folder` (a data dir's `catalog/`) too; called before the catalog is first needed.

    Every command that takes `--data-dir` calls it (services/cli/options.py), so `ventanilla up`
    checks the folder and each process it starts, given the same data dir, reads it too.
    """
    folder = folder.resolve()
    if folder not in _data_dir_folders:
        _data_dir_folders.append(folder)
        forget_catalog()


def forget_catalog() -> None:
    """Read the catalog folders again at the next `catalog()` (their files changed)."""
    _read.cache_clear()


def catalog_folders() -> tuple[Path, ...]:
    named = [Path(p) for p in os.environ.get(CATALOG_DIRS_ENV, "").split(os.pathsep) if p]
    return (SHIPPED_CATALOG, *_data_dir_folders, *named)


@cache
def _read() -> tuple[dict[str, ProcedureSpec], dict[str, Delegation]]:
    folders = catalog_folders()
    optional = set(_data_dir_folders)  # a data dir need not have a catalog folder
    procedures = load_catalog(folders, optional=optional)
    return procedures, load_delegations((f for f in folders if f.is_dir()), procedures)


def catalog() -> dict[str, ProcedureSpec]:
    """The validated catalog of every catalog folder, its delegations checked too; composition
    roots call this at start-up to fail fast, with every fault of every file (`CatalogError`).
    The delegations are checked against the procedures, so only once those have no fault."""
    return _read()[0]


def catalog_delegations() -> dict[str, Delegation]:
    """The delegations of every catalog folder by id, read and checked with `catalog()`."""
    return _read()[1]


def load_catalog(
    folders: Iterable[Path], optional: set[Path] | None = None
) -> dict[str, ProcedureSpec]:
    """Read every procedure file of `folders`; raises `CatalogError` naming every fault, each
    with its file and line."""
    faults: list[str] = []
    files: list[ProcedureFile] = []
    for folder in folders:
        if not folder.is_dir():
            if folder not in (optional or set()):
                faults.append(f"{folder}: the catalog folder does not exist")
            continue
        files += [read_procedure(path, text) for path, text in yaml_texts(folder, faults)]
    found: dict[str, ProcedureSpec] = {}
    first: dict[str, ProcedureFile] = {}
    for file in files:
        faults.extend(file.faults)
        proc = file.procedure
        if proc is None:
            continue
        if proc.code in first:
            earlier = first[proc.code]
            faults.append(
                f"{file.path}:{file.code_line}: procedure {proc.code!r} is declared twice "
                f"(first in {earlier.path}:{earlier.code_line})"
            )
            continue
        first[proc.code] = file
        found[proc.code] = proc
    if faults:
        raise CatalogError(faults)
    return found


@cache
def _shipped() -> dict[str, ProcedureSpec]:
    return load_catalog((SHIPPED_CATALOG,))


def __getattr__(name: str) -> ProcedureSpec:
    # Read lazily: importing the module reads no file.
    if name in _REFERENCE:
        return _shipped()[_REFERENCE[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
