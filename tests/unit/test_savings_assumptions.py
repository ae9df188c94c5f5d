"""The savings assumptions: the shipped file loads, says it is a demo, and bad files are refused."""

import pytest

from schemas.savings import (
    DocumentSpared,
    InvalidAssumptions,
    case_savings,
    parse_assumptions,
    savings_assumptions,
)

GOOD = """
label: demo-assumption
currency: PEN
services:
  - {entity: sat, service: certificado-no-adeudo, document: constancia,
     trips: 1, hours: 2, soles: 15}
"""


def test_the_shipped_assumptions_are_labelled_demo_and_name_catalog_services() -> None:
    shipped = savings_assumptions()
    assert shipped.label == "demo-assumption"
    assert shipped.of("sat", "certificado-no-adeudo") is not None
    assert shipped.of("reniec", "duplicado-dni") is None  # a service, not a document fetched


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("certificado-no-adeudo", "licencia-de-pesca"), "no service of the catalog"),
        (("soles: 15", "soles: -1"), "greater than or equal to 0"),
        (("label: demo-assumption", "label: guessed"), "label"),
        (("currency: PEN", "currency: USD"), "currency"),
        (("trips: 1,", "trips: 1, colour: red,"), "colour"),
    ],
)
def test_a_bad_assumptions_file_is_refused(change: tuple[str, str], complaint: str) -> None:
    with pytest.raises(InvalidAssumptions, match=complaint):
        parse_assumptions(GOOD.replace(*change))


def test_a_service_assumed_twice_is_refused() -> None:
    entry = "\n".join(GOOD.strip().splitlines()[-2:])
    with pytest.raises(InvalidAssumptions, match="assumed twice"):
        parse_assumptions(GOOD + entry + "\n")
    with pytest.raises(InvalidAssumptions):
        parse_assumptions("label: [unclosed")


def test_a_case_counts_each_document_once_and_each_entity_once() -> None:
    fee = DocumentSpared(entity="banco-nacion", service="pago-tasa", trips=1, hours=1.5, soles=8)
    debt = DocumentSpared(entity="sat", service="certificado-no-adeudo", trips=1, hours=2, soles=15)
    saved = case_savings([fee, debt, fee])
    assert (saved.documents, saved.entities, saved.trips) == (2, 2, 2)
    assert (saved.hours, saved.soles) == (3.5, 23.0)
    assert case_savings([]).documents == 0
