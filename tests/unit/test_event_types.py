"""The event names that readers of a history compare against are the ones the ledger records."""

import inspect

from schemas.event_types import EventType
from services.case_ledger.domain import CaseFile


def recorded_event_classes() -> dict[str, type]:
    base = (CaseFile.Event, CaseFile.Created)
    return {
        name: value
        for name, value in vars(CaseFile).items()
        if inspect.isclass(value) and issubclass(value, CaseFile.Event) and value not in base
    }


def test_every_event_the_case_file_records_has_its_name_in_event_types() -> None:
    assert set(recorded_event_classes()) == {t.value for t in EventType}
    assert EventType.STEP_DISPATCHED == "StepDispatched"  # a member equals the name as stored


def test_the_stored_topic_ends_in_the_event_type_name() -> None:
    # Stored topics end in the class name; readers take the part after the last dot.
    for name, cls in recorded_event_classes().items():
        assert cls.__qualname__.rpartition(".")[2] == name
        assert type(cls.__name__) is str  # a plain name in the topic, not the enum member
