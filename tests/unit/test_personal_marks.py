"""Personal data is marked on the models; start-up refuses a field that looks personal unmarked."""

from datetime import date, timedelta
from importlib.metadata import EntryPoint
from typing import Annotated

import pytest
from pydantic import BaseModel

from schemas.catalog import CatalogError, FromCitizen, ProcedureSpec, StepSpec, build_catalog
from schemas.citizens import CitizenRef
from schemas.entities import EntityPackageError, load_package
from schemas.entities.base import ServiceContract, ServiceRequest, ServiceResult
from schemas.entities.sunat import RucRegistered
from schemas.personal import (
    IDENTIFIES,
    PERSONAL,
    NotPersonal,
    UnmarkedPersonalField,
    check_marks,
    marks_of,
)


class Contact(BaseModel):
    phone_number: str


class Applicant(BaseModel):
    citizen: CitizenRef
    home_address: str


class Nested(BaseModel):
    contact: Contact | None = None


class Marked(BaseModel):
    citizen: CitizenRef
    spouse_dni: Annotated[str, IDENTIFIES]
    birth_date: Annotated[date, PERSONAL]
    file_name: Annotated[str, NotPersonal("the name of a scanned file")]
    plate: str


def test_a_field_that_looks_personal_but_is_unmarked_is_refused_by_name() -> None:
    with pytest.raises(UnmarkedPersonalField, match=r"Applicant\.home_address looks like"):
        check_marks(Applicant)


def test_nested_models_are_checked_too() -> None:
    with pytest.raises(UnmarkedPersonalField, match=r"Contact\.phone_number"):
        check_marks(Nested)


def test_marked_fields_pass_and_say_whose_they_are() -> None:
    check_marks(Marked)
    marks = marks_of([Marked])
    assert marks.identifying == {"document_number", "spouse_dni"}
    assert marks.describing == {"birth_date"}
    assert "plate" not in marks.describing | marks.identifying
    assert "file_name" not in marks.describing


def test_a_natural_persons_ruc_is_personal() -> None:
    assert "ruc" in marks_of([RucRegistered]).describing


class Request(ServiceRequest):
    citizen: CitizenRef
    email: str


class Answer(ServiceResult):
    number: str


class UnmarkedPackage:
    entity = "municipio-x"
    name = "Municipio X"
    contracts = (ServiceContract("municipio-x", "licencia", "License", Request, Answer),)
    procedures = ()


def test_an_entity_package_with_an_unmarked_personal_field_is_refused_naming_it() -> None:
    point = EntryPoint("municipio-x", f"{__name__}:UnmarkedPackage", "ventanilla.entities")
    with pytest.raises(EntityPackageError) as refused:
        load_package(point)
    message = str(refused.value)
    assert "municipio-x" in message
    assert "'licencia'" in message
    assert "Request.email looks like personal data" in message


class Inputs(BaseModel):
    buyer_name: str


def test_a_procedure_whose_inputs_hold_an_unmarked_personal_field_is_refused() -> None:
    procedure = ProcedureSpec(
        code="x",
        title="X",
        description="x",
        inputs=Inputs,
        steps=(
            StepSpec(
                id="identidad",
                entity="reniec",
                service="verificacion-identidad",
                request={"citizen": FromCitizen()},
                deadline=timedelta(minutes=1),
            ),
        ),
    )
    with pytest.raises(CatalogError, match=r"procedure 'x': inputs: Inputs\.buyer_name"):
        build_catalog((procedure,))
