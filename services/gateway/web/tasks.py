"""A case as a task list: every step of its procedure, each in words a citizen understands.

The ledger's view lists only the steps it has dispatched, with the bus's own statuses; this
turns it into the procedure's full list, in the catalog's order, with one of a few plain
statuses. A status this module does not know yet (the bus may add some, as it did for answers
an entity gives later) reads as "in progress" rather than breaking the page.

At a MAC Express site the case may not have reached the hub yet: until the hub's first status
comes back, the site knows only its own claim (a view of version 0), and the case reads as
"pending forwarding" instead of "received".
"""

from dataclasses import dataclass
from typing import Literal

from schemas.catalog import ProcedureSpec
from schemas.views import FINAL_STATUSES, CaseView, StepView

from . import texts
from .i18n import N_, gettext

TaskState = Literal[
    "waiting", "in_progress", "waiting_entity", "completed", "refused", "failed", "refunded"
]

TASK_LABELS: dict[TaskState, str] = {
    "waiting": N_("En espera"),
    "in_progress": N_("En curso"),
    "waiting_entity": N_("Esperando a la entidad"),
    "completed": N_("Completado"),
    "refused": N_("Rechazado"),
    "failed": N_("No se pudo completar"),
    "refunded": N_("Devuelto"),
}
# A shape for each state besides its words and colour: colour is never the only signal.
TASK_MARKS: dict[TaskState, str] = {
    "waiting": "○",
    "in_progress": "◔",
    "waiting_entity": "⧗",
    "completed": "✓",
    "refused": "✗",
    "failed": "✗",
    "refunded": "↺",
}
# A site's case the hub has sent no status for yet (it waits for the link, or is on its way).
PENDING_FORWARD = "pending_forward"
CASE_LABELS = {
    PENDING_FORWARD: N_("Pendiente de envío"),
    "submitted": N_("Recibido"),
    "in_progress": N_("En curso"),
    "completed": N_("Completado"),
    "rejected": N_("No se pudo completar"),
}
NEXT_STEPS = {
    PENDING_FORWARD: N_(
        "El caso quedó guardado en esta sede y se enviará a las entidades cuando vuelva la "
        "conexión. No hace falta registrarlo otra vez: esta constancia vale."
    ),
    "submitted": N_(
        "Las entidades recibirán el caso en unos segundos. No necesita volver a la ventanilla."
    ),
    "in_progress": N_(
        "Las entidades están atendiendo el caso. Puede seguirlo en la página de estado con sus "
        "códigos."
    ),
    "completed": N_(
        "El trámite terminó. Recoja su documento en la sede indicada por la entidad o espere su "
        "comunicación."
    ),
    "rejected": N_(
        "El trámite no pudo completarse. Si pagó una tasa, se le devuelve. Acérquese a una "
        "ventanilla para saber cómo seguir."
    ),
}


@dataclass(frozen=True)
class Task:
    step_id: str
    title: str
    entity: str
    state: TaskState
    label: str
    mark: str
    attempts: int


@dataclass(frozen=True)
class TaskList:
    status: str
    status_label: str
    is_final: bool
    next_steps: str
    version: int
    tasks: tuple[Task, ...]


def task_state(step: StepView | None, compensation: StepView | None, case_final: bool) -> TaskState:
    if compensation is not None:
        return "refunded" if compensation.status == "completed" else "in_progress"
    if step is None:
        return "waiting"
    status = str(step.status)
    if status == "pending":
        return "waiting"
    if status == "accepted":
        return "waiting_entity"
    if status == "completed":
        return "completed"
    if status == "rejected":
        return "refused"
    if status == "failed" and case_final:
        return "failed"
    return "in_progress"  # dispatched, a failed attempt being retried, or a status new to us


def case_status(view: CaseView, *, at_site: bool = False) -> str:
    """The key of the case's status in CASE_LABELS and NEXT_STEPS."""
    if at_site and view.version == 0:
        return PENDING_FORWARD
    return str(view.status)


def task_list(proc: ProcedureSpec | None, view: CaseView, *, at_site: bool = False) -> TaskList:
    by_id = {step.step_id: step for step in view.steps}
    final = view.status in FINAL_STATUSES
    order = [s.id for s in proc.steps] if proc else [s.step_id for s in view.steps]
    tasks = []
    for step_id in order:
        step = by_id.get(step_id)
        undo = next((s for s in view.steps if s.compensates == step_id), None)
        spec = proc.step(step_id) if proc else None
        entity = spec.entity if spec else (step.entity if step else "")
        service = spec.service if spec else (step.service if step else step_id)
        state = task_state(step, undo, final)
        tasks.append(
            Task(
                step_id=step_id,
                title=texts.step_title(entity, service, step_id),
                entity=texts.entity_name(entity),
                state=state,
                label=gettext(TASK_LABELS[state]),
                mark=TASK_MARKS[state],
                attempts=step.attempts if step else 0,
            )
        )
    status = case_status(view, at_site=at_site)
    return TaskList(
        status=status,
        status_label=gettext(CASE_LABELS.get(status, CASE_LABELS["in_progress"])),
        is_final=final,
        next_steps=gettext(NEXT_STEPS.get(status, NEXT_STEPS["in_progress"])),
        version=view.version,
        tasks=tuple(tasks),
    )
