"""A case taken at a counter keeps who took it, under which delegation, and the consent."""

from datetime import UTC, datetime

from eventsourcing.persistence import Tracking

from schemas.event_types import EventType
from schemas.messages import Consent, CounterAttendance
from services.case_ledger.application import CaseLedger
from services.cli.render import summary
from tests.factories import submit_command

FLOW = "banco-nacion/pago-tasa -> reniec/duplicado-dni: receipt_number"


def test_case_submitted_records_the_clerk_the_delegation_and_the_consent(
    ledger: CaseLedger,
) -> None:
    given_at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    attendance = CounterAttendance(
        clerk="asesor.lima-norte",
        delegation="convenio-reniec-014-2025",
        consent=Consent(given_at=given_at, flows=[FLOW]),
    )
    command = submit_command("40000001").model_copy(update={"attendance": attendance})
    assert ledger.submit_case(command, Tracking("commands", 1)) == "recorded"

    submitted = ledger.case_history(command.envelope.case_id).events[0]
    assert submitted.type == EventType.CASE_SUBMITTED
    assert submitted.data["attendance"] == {
        "clerk": "asesor.lima-norte",
        "delegation": "convenio-reniec-014-2025",
        "consent": {"given_at": "2026-12-01T09:30:00Z", "flows": [FLOW]},
    }
    line = summary(submitted)
    assert "clerk asesor.lima-norte under convenio-reniec-014-2025" in line
    assert "consented at 2026-12-01T09:30:00Z to 1 data flows" in line


def test_a_case_from_the_api_has_no_attendance(ledger: CaseLedger) -> None:
    command = submit_command("40000001")
    ledger.submit_case(command, Tracking("commands", 1))
    submitted = ledger.case_history(command.envelope.case_id).events[0]
    assert submitted.data["attendance"] is None
    assert "clerk" not in summary(submitted)
