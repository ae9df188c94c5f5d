"""Messages applied to the cases they concern, in memory, for one group commit.

The ledger application reads each case through `CaseSource`; checks that a result answers what
was asked come before the case's first new event, so a refused message changes nothing.
"""

from typing import Literal, Protocol
from uuid import UUID

import structlog
from pydantic import ValidationError

from schemas.catalog import ProcedureSpec
from schemas.conformance import is_check_case
from schemas.entities import SERVICES
from schemas.messages import StepResult, SubmitCase
from services.errors import Unprocessable

from .domain import ERASED, CaseFile, StepMismatch

log = structlog.get_logger(__name__)

# How the ledger filed a message: "recorded" as new events; "repeat", one it had recorded before;
# "check", a conformance check's result (schemas/conformance.py), passed over unrecorded.
Filing = Literal["recorded", "repeat", "check"]


class CaseSource(Protocol):
    """Where a batch reads the cases it changes: the ledger application."""

    @property
    def catalog(self) -> dict[str, ProcedureSpec]: ...

    def find_case(self, case_id: UUID) -> CaseFile | None: ...


class CaseBatch:
    """Consecutive messages of one stream applied to the cases they concern, in memory.

    Each case is read once per batch, however many of the batch's messages concern it, and the
    ledger saves all the changes with one tracking record (the last position of the batch): a
    group commit. A message that raises `Unprocessable` has changed nothing: every check comes
    before the case's first new event.
    """

    def __init__(self, ledger: CaseSource) -> None:
        self.ledger = ledger
        self._cases: dict[UUID, CaseFile | None] = {}

    def changed(self) -> list[CaseFile]:
        return [c for c in self._cases.values() if c is not None]

    def case(self, case_id: UUID) -> CaseFile | None:
        """The case as this batch has changed it so far (None if the batch has not read it)."""
        return self._cases.get(case_id)

    def _find(self, case_id: UUID) -> CaseFile | None:
        if case_id not in self._cases:
            self._cases[case_id] = self.ledger.find_case(case_id)
        return self._cases[case_id]

    def submit_case(self, command: SubmitCase) -> Filing:
        proc = self.ledger.catalog.get(command.procedure)
        if proc is None:
            raise Unprocessable(f"unknown procedure {command.procedure!r}")
        case_id = command.envelope.case_id
        existing = self._find(case_id)
        if existing is not None:
            if existing.request_fingerprint not in (command.request_fingerprint, ERASED):
                log.warning("case id reused with another request", case_id=str(case_id))
            return "repeat"
        case = CaseFile(
            case_id=case_id,
            procedure=command.procedure,
            channel=command.envelope.actor.id,
            citizen=command.citizen.model_dump(mode="json"),
            inputs=dict(command.inputs),
            request_fingerprint=command.request_fingerprint,
            actor=command.envelope.actor.model_dump(),
            causation_id=command.envelope.message_id,
            attendance=command.attendance.model_dump(mode="json") if command.attendance else None,
        )
        case.advance(proc)
        self._cases[case_id] = case
        return "recorded"

    def record_step_result(self, result: StepResult) -> Filing:
        if is_check_case(result.envelope.case_id):
            # `ventanilla adapter check` talking to an adapter: its answers belong to no case,
            # and filing them as dead letters would bury real ones.
            return "check"
        case = self._find(result.envelope.case_id)
        if case is None:
            raise Unprocessable("result for an unknown case")
        _check_result(case, result)
        try:
            fresh = case.record_result(
                result.step_id,
                result.attempt_id,
                result.entity,
                result.outcome,
                result.data,
                result.reason,
                result.expected_by,
            )
        except StepMismatch as exc:
            raise Unprocessable(str(exc)) from None
        if fresh:
            case.advance(self.ledger.catalog[case.procedure])
        return "recorded" if fresh else "repeat"


def _check_result(case: CaseFile, result: StepResult) -> None:
    """A result must answer the service that was asked, in that service's result model."""
    step = case.steps.get(result.step_id)
    if step is not None and step.service != result.service:
        raise Unprocessable(
            f"step {result.step_id!r} asked for {step.service}, not {result.service}"
        )
    if result.outcome != "completed" or (result.entity, result.service) not in SERVICES:
        return
    try:
        SERVICES[(result.entity, result.service)].result.model_validate(result.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Unprocessable(f"invalid {result.service} result: {where}: {first['msg']}") from None
