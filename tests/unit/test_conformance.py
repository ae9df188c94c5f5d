"""The conformance kit's requests: check case ids, and requests built from contract examples."""

from uuid import uuid4

import pytest
from pydantic import ConfigDict

from schemas.cases import case_id_for
from schemas.conformance import check_case_id, is_check_case, is_check_message
from schemas.entities.base import ServiceContract, ServiceRequest, ServiceResult
from services.conformance.samples import NoExample, examples_of, step_request, without_a_field
from services.conformance.suite import checks_for


class PermitRequest(ServiceRequest):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"plate": "ABC-123", "note": "optional"}]}
    )

    note: str | None = None
    plate: str


class PermitIssued(ServiceResult):
    number: str


PERMIT = ServiceContract("mtc", "permiso", "Permit", PermitRequest, PermitIssued)


class LicenceRequest(ServiceRequest):
    licence: str


LICENCE = ServiceContract("mtc", "licencia", "Licence", LicenceRequest, PermitIssued)


def test_check_case_ids_are_recognised_and_never_a_real_case_id() -> None:
    ids = {check_case_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(is_check_case(i) and i.version == 8 for i in ids)
    assert not is_check_case(case_id_for("mac-lima-norte", "K-1"))
    assert not is_check_case(uuid4())


def test_a_request_is_built_from_the_contracts_example_under_a_check_case_id() -> None:
    [example] = examples_of(PERMIT)
    request = step_request(PERMIT, example)
    assert is_check_case(request.envelope.case_id)
    typed = PermitRequest.model_validate(request.payload)
    assert typed.plate == "ABC-123"
    assert typed.case_id == request.envelope.case_id
    assert typed.attempt_id == request.attempt_id


def test_the_missing_field_is_a_required_one() -> None:
    field, rest = without_a_field(PERMIT, examples_of(PERMIT)[0])
    assert (field, rest) == ("plate", {"note": "optional"})


def test_a_contract_without_examples_cannot_be_checked_and_says_so() -> None:
    with pytest.raises(NoExample, match="LicenceRequest has no `examples`"):
        examples_of(LICENCE)
    checks, faults = checks_for((LICENCE,))
    assert checks == []
    assert faults == ["licencia: LicenceRequest has no `examples` in its JSON Schema"]


def test_an_entity_gets_every_kind_of_check() -> None:
    checks, faults = checks_for((PERMIT,))
    assert faults == []
    assert len(checks) == 6  # valid, twice, missing field, malformed, schema version, service


def test_a_message_of_a_check_is_told_apart_by_its_case_id() -> None:
    request = step_request(PERMIT, examples_of(PERMIT)[0])
    assert is_check_message(request.model_dump_json().encode())
    real = request.model_copy(
        update={"envelope": request.envelope.model_copy(update={"case_id": uuid4()})}
    )
    assert not is_check_message(real.model_dump_json().encode())
    assert not is_check_message(b'{"not json')
    assert not is_check_message(b'{"envelope": {"case_id": "nope"}}')
    assert not is_check_message(b"[]")
