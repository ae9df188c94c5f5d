"""Messages as a channel or an entity would send them, for tests at every level, and cases
put on a ledger with them."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from harness.commands import CARD as CARD
from harness.commands import RECEIPT as RECEIPT
from harness.commands import REFUND as REFUND
from harness.commands import envelope as envelope
from harness.commands import step_result as step_result
from harness.commands import submit_command as submit_command
from schemas.event_types import EventType
from schemas.messages import Actor, StepOutcome, StepResult, SubmitCase
from schemas.procedures import catalog
from services.case_ledger.application import CaseLedger
from services.case_ledger.store import LedgerStore
from services.datadir import DataDir
from services.entity_adapters.backoffices.demo import RENIEC_REGISTRY


def data_dir_ledger(data_dir: Path) -> CaseLedger:
    """The ledger in a data dir's `ledger/ledger.sqlite`, as `ventanilla up` leaves it."""
    return CaseLedger(catalog(), LedgerStore.sqlite(DataDir(data_dir).ledger_sqlite).environment())


def submit(ledger: CaseLedger, dni: str) -> UUID:
    """A duplicado-dni case submitted straight to a ledger; its id."""
    command = submit_command(dni)
    ledger.submit_case(command)
    return command.envelope.case_id


def answer(ledger: CaseLedger, case_id: UUID, step: str, **outcome: Any) -> None:
    """The step's entity answers its current attempt with `outcome` (a StepResult's fields)."""
    view = ledger.case_view(case_id)
    spec = next(s for s in view.steps if s.step_id == step)
    attempt_id = ledger.repository.get(case_id).steps[step].attempt_id
    ledger.record_step_result(
        StepResult(
            envelope=envelope(case_id, Actor(kind="entity", id=spec.entity)),
            step_id=step,
            attempt_id=attempt_id,
            entity=spec.entity,
            service=spec.service,
            **outcome,
        )
    )


# The history of a duplicado-dni case that went through without a hitch.
COMPLETED_HISTORY = [
    EventType.CASE_SUBMITTED,
    EventType.STEP_DISPATCHED,
    EventType.STEP_COMPLETED,
    EventType.DATA_SHARED,
    EventType.STEP_DISPATCHED,
    EventType.STEP_COMPLETED,
    EventType.CASE_COMPLETED,
]


BUYER, SELLER = "40000001", "40000007"  # demo citizens: SELLER owns the car ABC-123
TRANSFER = {"plate": "ABC-123", "seller_dni": SELLER, "price_pen": 25000}


def identity(dni: str) -> dict[str, str]:
    """What RENIEC's demo back office answers for `dni` (personal data)."""
    person = RENIEC_REGISTRY[dni]
    return {
        "verification_code": f"RENIEC-{dni[-2:]}",
        "given_names": person.given_names,
        "surnames": person.surnames,
        "birth_date": person.birth_date.isoformat(),
    }


def secrets_of(*dnis: str) -> set[str]:
    """The DNIs and what RENIEC holds of each: none may be stored or logged in the clear."""
    found = set(dnis)
    for dni in dnis:
        found |= {v for k, v in identity(dni).items() if k != "verification_code"}
    return found


# Every reference procedure with the demo citizens: how each case ends, and the back-office
# effects that end implies ("entity:kind" -> count).
@dataclass(frozen=True)
class Scenario:
    procedure: str
    dni: str
    inputs: dict[str, Any]
    status: str
    effects: dict[str, int] = field(default_factory=dict)  # "entity:kind" -> count
    reason: str | None = None


SCENARIOS = {
    "dni-succeeds": Scenario(
        "duplicado-dni",
        "40000001",
        {"reason": "perdida"},
        "completed",
        {"banco-nacion:fee-charged": 1, "reniec:dni-duplicate-issued": 1},
    ),
    "dni-unknown-refunded": Scenario(
        "duplicado-dni",
        "40000002",
        {"reason": "robo"},
        "rejected",
        {"banco-nacion:fee-charged": 1, "banco-nacion:fee-refunded": 1},
        reason="RENIEC has no record",
    ),
    "dni-payment-declined": Scenario(
        "duplicado-dni",
        "40000004",
        {"reason": "deterioro"},
        "rejected",
        {"banco-nacion:fee-charged": 0, "reniec:dni-duplicate-issued": 0},
        reason="declined",
    ),
    "dni-flaky-back-offices": Scenario(
        "duplicado-dni",
        "40000006",
        {"reason": "perdida"},
        "completed",
        {"banco-nacion:fee-charged": 1, "reniec:dni-duplicate-issued": 1},
    ),
    "passport-succeeds": Scenario(
        "pasaporte-electronico",
        "40000001",
        {},
        "completed",
        {"banco-nacion:fee-charged": 1, "migraciones:passport-issued": 1},
    ),
    "passport-unknown-refunded": Scenario(
        "pasaporte-electronico",
        "40000002",
        {},
        "rejected",
        {"banco-nacion:fee-charged": 1, "banco-nacion:fee-refunded": 1},
        reason="RENIEC has no record",
    ),
    "transfer-succeeds": Scenario(
        "transferencia-vehicular",
        "40000001",
        TRANSFER,
        "completed",
        {"banco-nacion:fee-charged": 1, "sunarp:transfer-registered": 1},
    ),
    "transfer-sat-debts": Scenario(
        "transferencia-vehicular",
        "40000003",
        TRANSFER,
        "rejected",
        {"banco-nacion:fee-charged": 0, "sunarp:transfer-registered": 0},
        reason="vehicle tax",
    ),
    "transfer-sunarp-refuses-after-paying": Scenario(
        "transferencia-vehicular",
        "40000005",
        TRANSFER,
        "rejected",
        {
            "banco-nacion:fee-charged": 1,
            "banco-nacion:fee-refunded": 1,
            "sunarp:transfer-registered": 0,
        },
        reason="SUNARP refused",
    ),
    "transfer-seller-not-owner": Scenario(
        "transferencia-vehicular",
        "40000001",
        {**TRANSFER, "seller_dni": "40000001"},
        "rejected",
        {"banco-nacion:fee-charged": 0},
        reason="not the registered owner of ABC-123",
    ),
    "transfer-to-oneself": Scenario(
        "transferencia-vehicular",
        "40000007",
        TRANSFER,
        "rejected",
        {"banco-nacion:fee-refunded": 1, "sunarp:transfer-registered": 0},
        reason="buyer and seller are the same person",
    ),
    "ruc-succeeds": Scenario(
        "inscripcion-ruc",
        "40000001",
        {"activity_code": "4711"},
        "completed",
        {"sunat:ruc-registered": 1},
    ),
    "ruc-flaky-back-offices": Scenario(
        "inscripcion-ruc",
        "40000006",
        {"activity_code": "4711"},
        "completed",
        {"sunat:ruc-registered": 1},
    ),
}


# A procedure file that loads (a one-step procedure of RENIEC's).
VALID_PROCEDURE = """\
code: legalizacion-firma
title: Legalización de firma
description: RENIEC confirms the identity of whoever signs.
life_event: negocio
inputs:
  model: schemas.inputs:PasaporteInputs
  examples:
    - {}
steps:
  - id: identidad
    entity: reniec
    service: verificacion-identidad
    request:
      citizen: {from: citizen}
    deadline: {within: 1h30m, agreement: ANS MAC-RENIEC 2024}
    max_attempts: 5
"""


def run_case(ledger: Any, command: SubmitCase, attempts: int = 4) -> UUID:
    """Submit a case and answer each step it dispatches, in process, with the reference
    entities' own handlers and fake back offices (as their adapters would), until it ends.

    `ledger` is a CaseLedger; a back office's transient failure is retried, as the SDK does.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from services.entity_adapters.backoffices.effects import EffectLog
    from services.entity_adapters.registry import entity_packages
    from services.entity_adapters.sdk import Accepted, StepRefused

    position = ledger.recorder.max_notification_id() or 0
    ledger.submit_case(command)
    case_id = command.envelope.case_id
    offices = {
        entity: (package.adapter, package.back_office(EffectLog()))
        for entity, package in entity_packages().items()
    }
    while True:
        notifications = ledger.notifications_after(position, 1000)
        if not notifications:
            return case_id
        for notification in notifications:
            position = notification.id
            event = ledger.mapper.to_domain_event(notification)
            if event.originator_id != case_id or type(event).__name__ not in (
                EventType.STEP_DISPATCHED,
                EventType.COMPENSATION_DISPATCHED,
            ):
                continue
            adapter, office = offices[event.entity]
            bound = adapter.handler(event.service)
            typed = bound.contract.request.model_validate(event.request)
            outcome: StepOutcome = "failed"
            data: dict[str, Any] = {}
            reason: str | None = "no answer"
            for _ in range(attempts):
                try:
                    # On a thread of its own: `asyncio.run` refuses to start inside a running
                    # loop, as in an async test, and that refusal would pass for a failure.
                    with ThreadPoolExecutor(1) as pool:
                        result = pool.submit(asyncio.run, bound.call(typed, office)).result()
                except StepRefused as exc:
                    outcome, data, reason = "rejected", {}, exc.reason
                    break
                except Exception as exc:  # transient: the SDK would redeliver
                    reason = type(exc).__name__
                    continue
                if isinstance(result, Accepted):
                    raise NotImplementedError("run_case answers at once: no deferred answers")
                outcome, data, reason = "completed", result.model_dump(mode="json"), None
                break
            ledger.record_step_result(
                step_result(
                    case_id,
                    event.step_id,
                    event.attempt_id,
                    event.entity,
                    event.service,
                    outcome=outcome,
                    data=data,
                    reason=reason,
                )
            )
