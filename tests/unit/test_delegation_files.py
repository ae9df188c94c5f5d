"""Delegation files: the shipped ones are the reference convenios, an operator's folder adds more,
and a broken file is refused with every one of its faults, each naming its file and line."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas import procedures
from schemas.catalog import CatalogError
from schemas.delegation_files import load_delegations
from schemas.delegations import Delegation, delegation_for, delegations, delegations_at
from schemas.procedures import (
    CATALOG_DIRS_ENV,
    SHIPPED_CATALOG,
    catalog,
    forget_catalog,
    load_catalog,
)

KIOSK = "mac-express-pias-napo"
LIMA = "mac-lima-norte"

VALID = """\
id: convenio-sunarp-031-2026
administering_entity: pcm-sgp
entity: sunarp
procedures: [transferencia-vehicular]
channels: [mac-express-pias-napo]
instrument: Adenda al convenio de colaboración interinstitucional
reference: Adenda N.° 1 al Convenio N.° 007-2026-PCM/SGP
"""

# Line numbers matter: each fault below names one of them.
BROKEN = """\
id: convenio-roto
administering_entity: ""
entity: reniec
procedures:
  - duplicado-dni
  - licencia-conducir
  - transferencia-vehicular
  - duplicado-dni
channels: [mac-lima-norte, tambo-ccorca]
instrument: Convenio
referencia: Convenio N.° 999
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def faults_of(*folders: Path, channels: set[str] | None = None) -> list[str]:
    with pytest.raises(CatalogError) as refused:
        load_delegations(folders, load_catalog((SHIPPED_CATALOG,)), channels)
    return list(refused.value.faults)


@pytest.fixture
def no_data_dirs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(procedures, "_data_dir_folders", [])
    monkeypatch.delenv(CATALOG_DIRS_ENV, raising=False)
    forget_catalog()
    yield
    forget_catalog()


def test_the_shipped_files_are_the_reference_convenios(no_data_dirs: None) -> None:
    convenio = "Convenio de colaboración interinstitucional"
    assert list(delegations().values()) == [
        Delegation(
            "convenio-migraciones-021-2025",
            "pcm-sgp",
            "migraciones",
            ("pasaporte-electronico",),
            (LIMA, KIOSK),
            convenio,
            "Convenio N.° 021-2025-PCM/SGP",
        ),
        Delegation(
            "convenio-reniec-014-2025",
            "pcm-sgp",
            "reniec",
            ("duplicado-dni",),
            (LIMA, KIOSK),
            convenio,
            "Convenio N.° 014-2025-PCM/SGP",
        ),
        Delegation(
            "convenio-sunarp-007-2026",
            "pcm-sgp",
            "sunarp",
            ("transferencia-vehicular",),
            (LIMA,),
            convenio,
            "Convenio N.° 007-2026-PCM/SGP",
        ),
        Delegation(
            "convenio-sunat-011-2026",
            "pcm-sgp",
            "sunat",
            ("inscripcion-ruc",),
            (LIMA,),
            convenio,
            "Convenio N.° 011-2026-PCM/SGP",
        ),
    ]
    kiosk = delegations_at(KIOSK)
    assert (
        delegation_for(kiosk, "duplicado-dni", KIOSK) == delegations()["convenio-reniec-014-2025"]
    )
    assert delegation_for(kiosk, "transferencia-vehicular", KIOSK) is None


def test_every_fault_of_a_file_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "delegations", "roto.yaml", BROKEN)

    faults = faults_of(tmp_path, channels={LIMA, KIOSK})

    known = "duplicado-dni, inscripcion-ruc, pasaporte-electronico, transferencia-vehicular"
    assert faults == [
        f"{path}:{line}: {text}"
        for line, text in [
            (1, "delegation: missing key 'reference'"),
            (2, "delegation 'convenio-roto': administering_entity must not be empty"),
            (
                6,
                "delegation 'convenio-roto': unknown procedure 'licencia-conducir' "
                f"(known: {known})",
            ),
            (
                7,
                "delegation 'convenio-roto': procedure 'transferencia-vehicular' is not of "
                "entity 'reniec' (its result comes from sunarp)",
            ),
            (8, "delegation 'convenio-roto': procedures: 'duplicado-dni' is given twice"),
            (
                9,
                "delegation 'convenio-roto': unknown channel 'tambo-ccorca' "
                "(known: mac-express-pias-napo, mac-lima-norte)",
            ),
            (
                11,
                "delegation: unknown key 'referencia' (known: administering_entity, channels, "
                "entity, id, instrument, procedures, reference)",
            ),
        ]
    ]


def test_an_unknown_entity_and_empty_lists_are_faults(tmp_path: Path) -> None:
    path = write(
        tmp_path / "delegations",
        "mal.yaml",
        VALID.replace("entity: sunarp", "entity: sunafil")
        .replace("[transferencia-vehicular]", "[]")
        .replace("channels: [mac-express-pias-napo]", "channels: mac-express-pias-napo"),
    )

    assert faults_of(tmp_path) == [
        f"{path}:3: delegation 'convenio-sunarp-031-2026': unknown entity 'sunafil' (known: "
        "banco-nacion, migraciones, reniec, sat, sunarp, sunat)",
        f"{path}:4: delegation 'convenio-sunarp-031-2026': procedures must be a list of at least "
        "one of its procedure codes",
        f"{path}:5: delegation 'convenio-sunarp-031-2026': channels must be a list of at least "
        "one of its channel ids",
    ]


def test_every_missing_field_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "delegations", "corto.yaml", "entity: sunarp\n")

    assert faults_of(tmp_path) == [
        f"{path}:1: delegation: missing key '{key}'"
        for key in ("administering_entity", "channels", "id", "instrument", "procedures")
    ] + [f"{path}:1: delegation: missing key 'reference'"]


def test_a_file_that_is_not_yaml_or_empty_is_a_fault(tmp_path: Path) -> None:
    bad = write(tmp_path / "delegations", "a.yaml", "id: [unclosed\n")
    empty = write(tmp_path / "delegations", "b.yaml", "")

    faults = faults_of(tmp_path)

    assert faults[0].startswith(f"{bad}:2: not valid YAML: ")
    assert faults[1:] == [f"{empty}:1: the file is empty"]


def test_an_id_given_twice_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path / "uno" / "delegations", "adenda.yaml", VALID)
    again = write(tmp_path / "dos" / "delegations", "otra.yaml", "# the same\n" + VALID)

    assert faults_of(tmp_path / "uno", tmp_path / "dos") == [
        f"{again}:2: delegation 'convenio-sunarp-031-2026' is declared twice (first in {first}:1)"
    ]


def test_the_shipped_id_given_again_by_an_operator_is_a_fault(
    tmp_path: Path, no_data_dirs: None
) -> None:
    procedures.use_data_dir_catalog(tmp_path)
    write(
        tmp_path / "delegations",
        "copia.yaml",
        VALID.replace("convenio-sunarp-031-2026", "convenio-sunarp-007-2026"),
    )

    with pytest.raises(CatalogError, match=r"copia\.yaml:1: delegation 'convenio-sunarp-007-2026'"):
        catalog()


def test_channels_are_not_checked_when_none_are_known(tmp_path: Path) -> None:
    write(tmp_path / "delegations", "tambo.yaml", VALID.replace(KIOSK, "tambo-ccorca"))

    loaded = load_delegations((tmp_path,), load_catalog((SHIPPED_CATALOG,)))

    assert loaded["convenio-sunarp-031-2026"].channels == ("tambo-ccorca",)


def test_an_operators_delegation_lets_the_kiosk_take_the_transfer(
    tmp_path: Path, no_data_dirs: None
) -> None:
    procedures.use_data_dir_catalog(tmp_path / "var" / "catalog")
    write(tmp_path / "var" / "catalog" / "delegations", "adenda.yaml", VALID)

    assert delegation_for(delegations_at(KIOSK), "transferencia-vehicular", KIOSK) == Delegation(
        "convenio-sunarp-031-2026",
        "pcm-sgp",
        "sunarp",
        ("transferencia-vehicular",),
        (KIOSK,),
        "Adenda al convenio de colaboración interinstitucional",
        "Adenda N.° 1 al Convenio N.° 007-2026-PCM/SGP",
    )


def test_a_broken_delegation_stops_the_catalog_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_data_dirs: None
) -> None:
    broken = write(tmp_path / "delegations", "roto.yaml", VALID.replace("sunarp\n", "sunat\n"))
    monkeypatch.setenv(CATALOG_DIRS_ENV, str(tmp_path))

    with pytest.raises(CatalogError) as refused:
        catalog()
    assert refused.value.faults == (
        f"{broken}:4: delegation 'convenio-sunarp-031-2026': procedure 'transferencia-vehicular' "
        "is not of entity 'sunat' (its result comes from sunarp)",
    )
    with pytest.raises(CatalogError):
        delegations()
