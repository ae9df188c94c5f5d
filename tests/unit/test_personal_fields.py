"""Which values are encrypted, under whose key, and what erasure does to them; no database."""

import pytest

from services.case_ledger.domain import ERASED
from services.case_ledger.personal.citizens import CitizenKeys
from services.case_ledger.personal.fields import NoDataSubject, PersonalFields
from services.case_ledger.personal.keystore import MemoryKeyStore
from services.case_ledger.personal.master import MasterKey

CASE, OTHER_CASE = "case-1", "case-2"
REQUEST = {
    "step_id": "inscripcion",
    "request": {
        "plate": "ABC-123",
        "seller": {"document_type": "DNI", "document_number": "40000007"},
        "buyer": {"document_type": "DNI", "document_number": "40000001"},
    },
    "actor": {"kind": "ledger", "id": "case-ledger"},
}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys() -> CitizenKeys:
    return CitizenKeys(MemoryKeyStore(), MasterKey.generate())


def test_each_dni_is_encrypted_under_its_own_citizen_and_the_rest_stays_clear(
    keys: CitizenKeys,
) -> None:
    fields = PersonalFields(keys)
    sealed = fields.encrypt(CASE, REQUEST, subject="40000001")

    assert "4000000" not in str(sealed)
    assert sealed["request"]["plate"] == "ABC-123"
    assert sealed["actor"] == REQUEST["actor"]
    assert fields.decrypt(CASE, sealed) == REQUEST
    keys.erase("40000007")
    opened = fields.decrypt(CASE, sealed)
    assert opened["request"]["seller"]["document_number"] == ERASED
    assert opened["request"]["buyer"]["document_number"] == "40000001"


def test_names_need_a_subject_and_an_erased_subject_writes_nothing(keys: CitizenKeys) -> None:
    fields = PersonalFields(keys)
    result = {"step_id": "identidad", "result": {"verification_code": "R-1", "surnames": "Quispe"}}
    with pytest.raises(NoDataSubject):
        fields.encrypt(CASE, result, subject=None)
    assert fields.encrypt(CASE, result, subject=ERASED)["result"] == {
        "verification_code": "R-1",
        "surnames": ERASED,
    }


def test_a_value_copied_into_another_case_does_not_open(keys: CitizenKeys) -> None:
    fields = PersonalFields(keys)
    sealed = fields.encrypt(CASE, REQUEST, subject="40000001")
    with pytest.raises(ValueError, match="altered or moved"):
        fields.decrypt(OTHER_CASE, sealed)


def test_an_erasure_by_another_process_reaches_a_reader_within_its_cache_time() -> None:
    store, master, clock = MemoryKeyStore(), MasterKey.generate(), Clock()
    reader = PersonalFields(CitizenKeys(store, master, ttl=5.0, clock=clock))
    sealed = reader.encrypt(CASE, REQUEST, subject="40000001")

    CitizenKeys(store, master).erase("40000001")

    assert reader.decrypt(CASE, sealed)["request"]["buyer"]["document_number"] == "40000001"
    clock.now = 6.0
    assert reader.decrypt(CASE, sealed)["request"]["buyer"]["document_number"] == ERASED
