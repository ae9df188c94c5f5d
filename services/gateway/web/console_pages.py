"""The counter console: pick a procedure, fill its form, check, preview with consent, submit.

Every step is a plain form post (the essential path needs no JavaScript) and carries the answers
in hidden fields, so nothing is kept on the server until the case is submitted. The idempotency
key is made when the form is first shown and travels with the answers: a reload or a double
click of "submit" names the same case, which the bus opens once.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from schemas.catalog import ProcedureSpec
from schemas.delegations import Delegation, delegation_for
from schemas.life_events import life_events
from schemas.messages import Consent, CounterAttendance
from schemas.procedures import catalog
from services.errors import BusUnavailable

from ..case_bus import IdempotencyConflict
from ..submission import CaseSubmission, submit_command
from . import forms, texts
from .api_refusals import NotDelegated
from .console import PageRefused, WebConsole, wants_problem
from .counter_store import ROLE_HOMES, Clerk, Receipt, case_code_of
from .forms_csrf import checked_form
from .i18n import _, gettext
from .preview import flow_texts, flows

KEY_FIELD = "clave"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def console_routes(console: WebConsole) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    Code = Annotated[str, Path()]

    def procedure(code: str) -> ProcedureSpec:
        proc = catalog().get(code)
        if proc is None:
            raise PageRefused(
                404, _("Trámite no encontrado"), _("No hay un trámite con ese código.")
            )
        return proc

    def delegated(request: Request, clerk: Clerk, proc: ProcedureSpec) -> Delegation:
        delegation = delegation_for(clerk.delegations, proc.code, clerk.channel)
        if delegation is None:
            if wants_problem(request):
                raise NotDelegated(proc.code, clerk.channel)
            raise PageRefused(
                403,
                _("Trámite no delegado"),
                _(
                    "Usted no puede atender «%(procedure)s» en esta sede: su cuenta no tiene una "
                    "delegación (convenio) de la entidad para este trámite en el canal "
                    "%(channel)s. Derive al ciudadano a una ventanilla que lo atienda."
                )
                % {"procedure": texts.procedure_title(proc.code), "channel": clerk.channel},
            )
        return delegation

    @router.get("/")
    async def home(request: Request, q: str = "", grupo: str = "") -> Response:
        member = console.staff(request)
        if member is not None:
            return RedirectResponse(ROLE_HOMES[member.role], status_code=303)
        clerk = console.require_clerk(request)
        query = q.strip().lower()
        groups = []
        for event in life_events(catalog()):
            if grupo and event.code != grupo:
                continue
            entries = []
            for code in event.procedures:
                title = texts.procedure_title(code)
                summary = gettext(texts.PROCEDURE_SUMMARIES.get(code, ""))
                if query and query not in f"{title} {summary} {code}".lower():
                    continue
                allowed = delegation_for(clerk.delegations, code, clerk.channel) is not None
                entries.append({"code": code, "title": title, "summary": summary, "ok": allowed})
            if entries:
                groups.append(
                    {"code": event.code, "title": texts.life_event(event.code), "entries": entries}
                )
        return console.render(
            request,
            "home.html",
            clerk=clerk,
            groups=groups,
            q=q,
            grupo=grupo,
            all_groups=[(e.code, texts.life_event(e.code)) for e in life_events(catalog())],
        )

    @router.api_route("/tramites/{code}", methods=["GET", "POST"])
    async def form_page(request: Request, code: Code) -> Response:
        clerk = console.require_clerk(request)
        proc = procedure(code)
        delegated(request, clerk, proc)
        answers: dict[str, str] = {}
        key = str(uuid4())
        if request.method == "POST":  # "change" from the check-your-answers page
            posted = await checked_form(console, request)
            answers = forms.answers_from(posted, proc)
            key = _key(posted)
        return _form(request, clerk, proc, answers, key, {})

    def _form(
        request: Request,
        clerk: Clerk,
        proc: ProcedureSpec,
        answers: dict[str, str],
        key: str,
        errors: dict[str, str],
    ) -> Response:
        return console.render(
            request,
            "form.html",
            422 if errors else 200,
            switch_back=f"/tramites/{proc.code}",
            clerk=clerk,
            proc=proc,
            title=texts.procedure_title(proc.code),
            fields=forms.form_fields(proc),
            answers=answers,
            errors=errors,
            key=key,
        )

    @dataclass(frozen=True)
    class Checked:
        clerk: Clerk
        proc: ProcedureSpec
        delegation: Delegation
        answers: dict[str, str]
        key: str
        submission: CaseSubmission | None
        invalid: Response | None  # the form again, with its errors

    async def _checked(request: Request, code: str) -> Checked:
        clerk = console.require_clerk(request)
        proc = procedure(code)
        posted = await checked_form(console, request)
        delegation = delegated(request, clerk, proc)
        answers = forms.answers_from(posted, proc)
        key = _key(posted)
        submission, problems = forms.validate(proc, answers)
        invalid = None
        if problems:
            errors = forms.page_errors(problems)
            invalid = _form(request, clerk, proc, answers, key, errors)
        return Checked(clerk, proc, delegation, answers, key, submission, invalid)

    def _answers_page(request: Request, template: str, checked: Checked, **shown: Any) -> Response:
        """A page over the clerk's checked answers, which it carries on (hidden) to the next."""
        proc = checked.proc
        return console.render(
            request,
            template,
            switch_back=f"/tramites/{proc.code}",
            clerk=checked.clerk,
            proc=proc,
            title=texts.procedure_title(proc.code),
            answers=checked.answers,
            key=checked.key,
            **shown,
        )

    @router.post("/tramites/{code}/revisar")
    async def check_answers(request: Request, code: Code) -> Response:
        checked = await _checked(request, code)
        if checked.invalid is not None:
            return checked.invalid
        fields = forms.form_fields(checked.proc)
        rows = [(f, forms.shown_answer(f, checked.answers.get(f.name, ""))) for f in fields]
        return _answers_page(request, "check.html", checked, rows=rows)

    @router.post("/tramites/{code}/vista-previa")
    async def preview(request: Request, code: Code) -> Response:
        checked = await _checked(request, code)
        if checked.invalid is not None:
            return checked.invalid
        return _answers_page(request, "preview.html", checked, flows=flow_texts(checked.proc))

    @router.post("/tramites/{code}/enviar")
    async def submit(request: Request, code: Code) -> Response:
        checked = await _checked(request, code)
        if checked.invalid is not None:
            return checked.invalid
        clerk, proc, key, delegation = checked.clerk, checked.proc, checked.key, checked.delegation
        form = await request.form()
        if form.get("consentimiento") != "si":
            return console.render(
                request,
                "declined.html",
                switch_back="/",
                clerk=clerk,
                title=texts.procedure_title(proc.code),
            )
        assert checked.submission is not None  # _checked answered invalid answers
        command = submit_command(checked.submission, clerk.channel, key)
        attendance = CounterAttendance(
            clerk=clerk.user,
            delegation=delegation.id,
            consent=Consent(given_at=datetime.now(UTC), flows=[f.record for f in flows(proc)]),
        )
        command = command.model_copy(update={"attendance": attendance})
        case_id = command.envelope.case_id
        request.state.case_id = case_id
        try:
            request.state.submission = await console.bus.submit(command)
        except IdempotencyConflict:
            raise PageRefused(
                409,
                _("Este formulario ya se envió"),
                _(
                    "Estas respuestas cambiaron después de enviar el caso. Para un caso nuevo, "
                    "vuelva a elegir el trámite."
                ),
            ) from None
        except BusUnavailable:
            raise PageRefused(
                503,
                _("Servicio no disponible"),
                _("El sistema no responde en este momento. No se perdió nada: vuelva a enviar."),
            ) from None
        console.store.keep_receipt(
            Receipt(
                case_id=case_id,
                case_code=case_code_of(case_id),
                clerk=clerk.user,
                channel=clerk.channel,
                procedure=proc.code,
                submitted_at=command.envelope.occurred_at,
            )
        )
        return RedirectResponse(f"/casos/{case_id}", status_code=303)

    return router


def _key(form: dict[str, str]) -> str:
    key = form.get(KEY_FIELD, "")
    return key if _KEY.match(key) else str(uuid4())
