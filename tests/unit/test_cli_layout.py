"""`case show` and `case history` on a clerk's 80-column terminal: no step or event wraps."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from rich.console import Console

from schemas.event_types import EventType
from schemas.procedures import catalog
from schemas.views import CaseHistory, CaseView, HistoryEntry, StepView
from services.case_ledger.planner import compensation_id
from services.cli import case, render

SUBMITTED = datetime(2026, 11, 30, 23, 59, 58, 250000, tzinfo=UTC)
REASON = "the seller's ownership of ABC-123 is disputed at SUNARP; see the registry's notice"


def transfer_view() -> CaseView:
    """Every step of the transfer (the longest ids in the catalog), one refused, one undone."""
    spec = catalog()["transferencia-vehicular"]
    steps = [
        StepView(
            step_id=step.id,
            entity=step.entity,
            service=step.service,
            status="rejected" if step.id == "inscripcion" else "completed",
            attempts=3 if step.id == "no-adeudo" else 1,
            dispatched_at=SUBMITTED,
            finished_at=SUBMITTED + timedelta(seconds=4),
            reason=REASON if step.id == "inscripcion" else None,
        )
        for step in spec.steps
    ]
    fee = spec.step("pago-tasa")
    assert fee.compensation is not None
    steps.append(
        StepView(
            step_id=compensation_id(fee.id),
            entity=fee.entity,
            service=fee.compensation.service,
            status="dispatched",
            attempts=1,
            dispatched_at=SUBMITTED + timedelta(seconds=5),
            compensates=fee.id,
        )
    )
    return CaseView(
        case_id=uuid4(),
        procedure=spec.code,
        channel="mac-express-pias-napo",
        status="in_progress",
        submitted_at=SUBMITTED,
        updated_at=SUBMITTED + timedelta(seconds=5),
        version=20,
        steps=steps,
    )


def transfer_history(view: CaseView) -> CaseHistory:
    entries = [
        HistoryEntry(
            position=1,
            type=EventType.CASE_SUBMITTED,
            occurred_at=SUBMITTED,
            actor={"kind": "channel", "id": view.channel},
            data={
                "procedure": view.procedure,
                "inputs": {"plate": "ABC-123", "seller_dni": "[erased]", "price_pen": "25000"},
            },
        )
    ]
    for step in view.steps:
        entries.append(
            HistoryEntry(
                position=len(entries) + 1,
                type=EventType.COMPENSATION_DISPATCHED
                if step.compensates
                else EventType.STEP_DISPATCHED,
                occurred_at=step.dispatched_at or SUBMITTED,  # the second ones are past midnight
                actor={"kind": "ledger", "id": "case-ledger"},
                data={
                    "step_id": step.step_id,
                    "entity": step.entity,
                    "service": step.service,
                    "attempt": step.attempts,
                    "compensates": step.compensates,
                },
            )
        )
    return CaseHistory(case_id=view.case_id, channel=view.channel, events=entries)


def printed(renderable: object, width: int) -> list[str]:
    console = Console(width=width, highlight=False, color_system=None)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get().splitlines()


@pytest.mark.parametrize("width", [80, 200])
def test_each_step_of_case_show_is_one_line_that_fits(width: int) -> None:
    view = transfer_view()

    lines = printed(render.case_view(view), width)

    assert all(len(line.rstrip()) <= width for line in lines), lines
    for step in view.steps:
        [row] = [line for line in lines if line.split()[:1] == [step.step_id]]
        assert step.status in row.split(), row
        assert str(step.attempts) in row.split() or f"attempt {step.attempts}" in row
        assert render.clock(step.dispatched_at) in row  # the step's times, on its own line
        assert render.clock(step.finished_at) in row
        assert step.entity in " ".join(lines)
        assert step.service in " ".join(lines)
    assert REASON in " ".join(" ".join(lines).split())  # the refusal is there, word for word


def test_at_80_columns_the_entity_and_service_stand_under_their_step() -> None:
    view = transfer_view()

    lines = printed(render.case_view(view), 80)

    for step in view.steps:
        at = next(i for i, line in enumerate(lines) if line.split()[:1] == [step.step_id])
        assert lines[at + 1].split() == [step.entity, "·", step.service]


@pytest.mark.parametrize("width", [80, 200])
def test_each_event_of_case_history_is_one_line_that_fits(width: int) -> None:
    history = transfer_history(transfer_view())

    lines = printed(render.case_history(history), width)

    assert all(len(line.rstrip()) <= width for line in lines), lines
    for entry in history.events:
        rows = [
            line
            for line in lines
            if line.split()[:1] == [str(entry.position)] and entry.type in line.split()
        ]
        assert len(rows) == 1, (entry.position, lines)
        assert f"{entry.actor['kind']} {entry.actor['id']}" in rows[0]
    assert "seller_dni=[erased]" in " ".join(lines)  # rich markup did not eat the brackets


def test_at_80_columns_the_history_names_each_day_once() -> None:
    history = transfer_history(transfer_view())  # its last events are past midnight

    lines = printed(render.case_history(history), 80)

    assert [line for line in lines if line.startswith("2026-")] == ["2026-11-30", "2026-12-01"]


@pytest.mark.parametrize("columns", [80, 160])
def test_the_cli_console_takes_its_width_from_columns(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`case show` as its command prints it: stacked at COLUMNS=80, a table when wide enough."""
    monkeypatch.setenv("COLUMNS", str(columns))
    view = transfer_view()
    terminal = case.console()

    with terminal.capture() as captured:
        terminal.print(render.case_view(view))
    lines = captured.get().splitlines()

    assert all(len(line.rstrip()) <= columns for line in lines), lines
    first = view.steps[0]
    [row] = [line for line in lines if line.split()[:1] == [first.step_id]]
    assert (first.entity in row.split()) is (columns > 80), row
