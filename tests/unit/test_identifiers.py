"""DNI, RUC, plate and CIIU code accept ASCII only, wherever the contract holds one."""

from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.citizens import CitizenRef
from schemas.entities.sat import NoDebtRequest
from schemas.entities.sunarp import OwnershipRequest
from schemas.identifiers import PLATE_PATTERN, CiiuCode, Dni, Plate, Ruc
from schemas.procedures import InscripcionRucInputs, TransferenciaVehicularInputs
from schemas.queries import AccessLogQuery
from services.cli.citizen import check_dni
from services.cli.failures import CliError

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ－",
)
# Latin letters that read as digits, and Cyrillic/Greek capitals that read as Latin ones.
DIGIT_LOOK_ALIKES = str.maketrans("01", "Ol")
LATIN_LOOK_ALIKES = str.maketrans("ABCEHKMOPTX", "АВСЕНКМОРТΧ")


def spoofs(valid: str) -> list[str]:
    """The valid value as other scripts write it: each looks the same to a clerk's eye."""
    return [
        valid.translate(ARABIC_INDIC),
        valid.translate(DEVANAGARI),
        valid.translate(FULL_WIDTH),
        valid.translate(DIGIT_LOOK_ALIKES),
        valid.translate(LATIN_LOOK_ALIKES),
    ]


def accepts(annotation: Any, value: str) -> bool:
    try:
        TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("annotation", "valid"),
    [(Dni, "40000001"), (Ruc, "20100066603"), (Plate, "ABC-123"), (CiiuCode, "4711")],
    ids=["dni", "ruc", "plate", "ciiu"],
)
def test_each_identifier_takes_ascii_and_refuses_the_same_value_in_other_scripts(
    annotation: Any, valid: str
) -> None:
    assert accepts(annotation, valid)
    variants = [v for v in spoofs(valid) if v != valid]
    assert len(variants) >= 3  # at least the digits in three other scripts
    refused = [v for v in variants if not accepts(annotation, v)]
    assert refused == variants


def test_a_plate_refuses_a_unicode_dash_and_lower_case() -> None:
    assert accepts(Plate, "A1B-123")
    for plate in ("ABC‐123", "ABC−123", "ABC–123", "abc-123", "ABC-123\n"):
        assert not accepts(Plate, plate), plate


def test_a_dni_refuses_a_trailing_newline() -> None:
    assert not accepts(Dni, "40000001\n")
    assert not accepts(Dni, " 40000001")


# Every place of the contract that holds a DNI or a plate, with a valid value for the rest.
HOLDERS: list[tuple[type[BaseModel], dict[str, Any], str, str]] = [
    (CitizenRef, {"document_type": "DNI"}, "document_number", "40000001"),
    (AccessLogQuery, {}, "document_number", "40000001"),
    (
        TransferenciaVehicularInputs,
        {"plate": "ABC-123", "price_pen": "25000"},
        "seller_dni",
        "40000007",
    ),
    (
        TransferenciaVehicularInputs,
        {"seller_dni": "40000007", "price_pen": "25000"},
        "plate",
        "ABC-123",
    ),
    (InscripcionRucInputs, {}, "activity_code", "4711"),
]


@pytest.mark.parametrize(("model", "rest", "field", "valid"), HOLDERS)
def test_every_model_holding_an_identifier_refuses_other_scripts(
    model: type[BaseModel], rest: dict[str, Any], field: str, valid: str
) -> None:
    model.model_validate({**rest, field: valid})
    for spoof in spoofs(valid):
        if spoof != valid:
            with pytest.raises(ValidationError):
                model.model_validate({**rest, field: spoof})


@pytest.mark.parametrize("model", [NoDebtRequest, OwnershipRequest])
def test_entity_requests_take_the_shared_plate(model: type[BaseModel]) -> None:
    assert model.model_json_schema()["properties"]["plate"]["pattern"] == PLATE_PATTERN


def test_the_cli_refuses_a_dni_in_arabic_indic_digits() -> None:
    check_dni("40000001")
    with pytest.raises(CliError):
        check_dni("40000001".translate(ARABIC_INDIC))
