"""Procedure files: the shipped ones are the reference procedures, and a broken file is refused
with every one of its faults, each naming its file and line."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from schemas import procedures
from schemas.catalog import CatalogError, FromStep
from schemas.procedures import (
    CATALOG_DIRS_ENV,
    SHIPPED_CATALOG,
    catalog,
    forget_catalog,
    load_catalog,
)
from tests.factories import VALID_PROCEDURE as VALID

# Line numbers matter: each fault below names one of them.
BROKEN = """\
code: roto
title: Roto
description: Every kind of fault at once.
life_event: viajes
fees: "1.00"
inputs:
  model: schemas.inputs:DuplicadoDniInputs
  examples:
    - {reason: aburrimiento}
steps:
  - id: a
    entity: sunafil
    service: inspeccion
    request: {}
    deadline: {within: 10 minutes, agreement: X}
  - id: b
    entity: reniec
    service: duplicado-dni
    after: [c]
    request:
      citizen: {from: citizen}
      reason: {from: input, name: motivo}
      colour: {from: constant, value: red}
      payment_receipt: {from: step, step: c, field: voucher, purpose: Proof}
    deadline: {within: 30m, agreement: ANS}
    max_attempts: 0
  - id: c
    entity: banco-nacion
    service: pago-tasa
    after: [b]
    request:
      citizen: {from: citizen}
      procedure: {from: constant, value: roto}
    deadline: {within: 5m}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def faults_of(*folders: Path) -> list[str]:
    with pytest.raises(CatalogError) as refused:
        load_catalog(folders)
    assert str(refused.value) == "\n".join(refused.value.faults)
    return list(refused.value.faults)


@pytest.fixture
def no_data_dirs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(procedures, "_data_dir_folders", [])
    monkeypatch.delenv(CATALOG_DIRS_ENV, raising=False)
    forget_catalog()
    yield
    forget_catalog()


def test_the_shipped_files_are_the_reference_procedures() -> None:
    shipped = load_catalog((SHIPPED_CATALOG,))
    assert sorted(shipped) == [
        "duplicado-dni",
        "inscripcion-ruc",
        "pasaporte-electronico",
        "transferencia-vehicular",
    ]
    dni = shipped["duplicado-dni"]
    assert (dni.title, dni.fee_pen, dni.life_event) == ("Duplicado de DNI", "23.40", "identidad")
    fee, duplicate = dni.steps
    assert (fee.deadline, fee.agreement) == (
        timedelta(minutes=5),
        "ANS MAC-Banco de la Nación 2024",
    )
    assert duplicate.after == ("pago-tasa",)
    assert duplicate.request["payment_receipt"] == FromStep(
        "pago-tasa", "receipt_number", "Proof that the duplicate DNI fee was paid", "DL 1211"
    )
    assert fee.compensation is not None
    assert fee.compensation.service == "devolucion-tasa"
    for proc in shipped.values():
        assert proc.input_examples, proc.code
        assert all(step.agreement for step in proc.steps), proc.code


def test_a_valid_file_is_read_with_its_durations_and_retry_budget(tmp_path: Path) -> None:
    write(tmp_path, "legalizacion-firma.yaml", VALID)

    proc = load_catalog((tmp_path,))["legalizacion-firma"]

    (step,) = proc.steps
    assert step.deadline == timedelta(hours=1, minutes=30)
    assert step.max_attempts == 5
    assert proc.input_schema()["examples"] == [{}]


def test_a_broken_file_is_refused_with_every_fault_and_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "roto.yaml", BROKEN)

    assert faults_of(tmp_path) == [
        f"{path}:{line}: {text}"
        for line, text in [
            (4, "unknown life event 'viajes' (known: identidad, vehiculo, negocio)"),
            (
                5,
                "procedure: unknown key 'fees' (known: code, description, fee_pen, inputs, "
                "life_event, steps, title, titles)",
            ),
            (
                9,
                "inputs: example 1 is invalid: reason: "
                "Input should be 'perdida', 'robo' or 'deterioro'",
            ),
            (12, "procedure 'roto', step 'a': unknown entity 'sunafil'"),
            (
                15,
                "step 'a': deadline: within: '10 minutes' is not a duration such as "
                "90s, 30m, 1h30m or 2d",
            ),
            (19, "procedure 'roto' has a cyclic dependency: b -> c -> b"),
            (22, "procedure 'roto', step 'b': field 'reason' reads unknown input 'motivo'"),
            (23, "procedure 'roto', step 'b': request of 'duplicado-dni' has no field 'colour'"),
            (
                24,
                "procedure 'roto', step 'b': field 'payment_receipt' reads unknown result "
                "field 'voucher' of step 'c'",
            ),
            (
                24,
                "procedure 'roto', step 'b': data flow into 'payment_receipt' names no legal basis",
            ),
            (26, "step 'b': max_attempts must be a whole number of at least 1"),
            (
                31,
                "procedure 'roto', step 'c': nothing provides required request field 'amount_pen'",
            ),
            (34, "step 'c': deadline: missing key 'agreement'"),
        ]
    ]


def test_faults_of_several_files_and_folders_come_together(tmp_path: Path) -> None:
    unknown_service = VALID.replace("service: verificacion-identidad", "service: legalizar")
    first = write(tmp_path / "a", "firma.yaml", VALID)
    second = write(tmp_path / "b", "firma-bis.yaml", VALID)  # the same code again
    third = write(tmp_path / "b", "otra.yaml", unknown_service.replace("legalizacion-", "otra-"))
    not_yaml = write(tmp_path / "b", "broken.yaml", "code: [unclosed\n")
    missing = tmp_path / "nowhere"

    assert faults_of(tmp_path / "a", tmp_path / "b", missing) == [
        f"{missing}: the catalog folder does not exist",
        f"{not_yaml}:2: not valid YAML: expected ',' or ']', but got '<stream end>'",
        f"{second}:1: procedure 'legalizacion-firma' is declared twice (first in {first}:1)",
        f"{third}:12: procedure 'otra-firma', step 'identidad': "
        "entity 'reniec' offers no service 'legalizar'",
    ]


def test_only_yaml_files_directly_in_a_folder_are_procedures(tmp_path: Path) -> None:
    write(tmp_path, "legalizacion-firma.yaml", VALID)
    write(tmp_path / "assumptions", "reniec.yaml", "not: a procedure\n")
    write(tmp_path, "notes.txt", "not: a procedure\n")

    assert list(load_catalog((tmp_path,))) == ["legalizacion-firma"]


def test_the_catalog_reads_the_data_dir_and_the_named_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_data_dirs: None
) -> None:
    data_dir_catalog = tmp_path / "var" / "catalog"
    procedures.use_data_dir_catalog(tmp_path / "absent")  # a data dir need not have one
    procedures.use_data_dir_catalog(data_dir_catalog)
    write(data_dir_catalog, "firma.yaml", VALID)
    named = write(tmp_path / "named", "otra.yaml", VALID.replace("legalizacion-", "otra-"))
    monkeypatch.setenv(CATALOG_DIRS_ENV, f"{named.parent}")

    assert {"duplicado-dni", "legalizacion-firma", "otra-firma"} <= set(catalog())

    write(data_dir_catalog, "roto.yaml", VALID.replace("code:", "kode:"))
    forget_catalog()
    with pytest.raises(CatalogError, match=r"roto\.yaml:1: procedure: unknown key 'kode'"):
        catalog()


def test_unknown_keys_sources_and_models_are_named_where_they_are(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mal.yaml",
        VALID.replace("inputs:\n  model: schemas.inputs:PasaporteInputs", "inputs:\n  model: x:Y")
        .replace("life_event: negocio", "life_event: negocio\nfee_pen: 12.5\ntitles: {qu: Firma}")
        .replace("    max_attempts: 5", "    max_attemps: 5")
        .replace("citizen: {from: citizen}", "citizen: {from: citizen, name: x}")
        + "  - id: identidad\n"
        "    entity: reniec\n"
        "    service: verificacion-identidad\n"
        "    request: {citizen: {from: everywhere}}\n"
        "    deadline: {within: 0s, agreement: ANS}\n",
    )

    faults = faults_of(tmp_path)

    assert faults == [
        f"{path}:{line}: {text}"
        for line, text in [
            (5, 'fee_pen must be a quoted decimal amount, e.g. "23.40"'),
            (8, "inputs: model 'x:Y': cannot import 'x': No module named 'x'"),
            (11, "procedure 'legalizacion-firma' declares a step id twice"),
            (16, "step 'identidad': request field 'citizen': unknown key 'name' (known: from)"),
            (
                18,
                "step 1: unknown key 'max_attemps' (known: after, compensation, deadline, "
                "entity, id, max_attempts, request, service)",
            ),
            (
                22,
                "step 'identidad': request field 'citizen': 'from' must be one of citizen, "
                "input, citizen-from-input, constant, step",
            ),
            (23, "step 'identidad': deadline: within: a deadline must be longer than zero"),
        ]
    ]


def test_a_new_procedure_is_titled_by_its_file_in_the_pages_language(
    tmp_path: Path, no_data_dirs: None
) -> None:
    from services.gateway.web import texts
    from services.gateway.web.i18n import speaking

    procedures.use_data_dir_catalog(tmp_path)
    write(tmp_path, "firma.yaml", VALID.replace("title:", "titles: {qu: Firma chaninchay}\ntitle:"))

    assert texts.procedure_title("legalizacion-firma") == "Legalización de firma"
    with speaking("qu"):
        assert texts.procedure_title("legalizacion-firma") == "Firma chaninchay"


def test_a_file_that_is_not_safe_yaml_or_not_text_is_a_fault(tmp_path: Path) -> None:
    unsafe = write(
        tmp_path,
        "unsafe.yaml",
        VALID.replace(
            "citizen: {from: citizen}",
            'citizen: {from: constant, value: !!python/object/apply:os.system ["true"]}',
        ),
    )
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe")

    assert faults_of(tmp_path) == [
        f"{binary}: cannot be read: 'utf-8' codec can't decode byte 0xff in position 0: "
        "invalid start byte",
        f"{unsafe}:14: cannot be read: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
    ]
