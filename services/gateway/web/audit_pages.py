"""The auditor's pages under /auditoria: find a case, its timeline, replay, verification, bundle.

Every page needs an auditor's session (`WebConsole.requires("auditor")`); a clerk or an operator
gets a 403. Every read of a case's personal data gives the ledger the auditor's purpose, which
the auditor must state, so the read is recorded like the API's (services/gateway/reads.py).
"""

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from .console import WebConsole
from .counter_store import StaffMember
from .i18n import _


def audit_routes(console: WebConsole) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    Auditor = Annotated[StaffMember, Depends(console.requires("auditor"))]

    @router.get("/auditoria")
    async def audit_home(
        request: Request,
        auditor: Auditor,
        caso: Annotated[str, Query(max_length=100)] = "",
        proposito: Annotated[str, Query(max_length=500)] = "",
    ) -> Response:
        errors: dict[str, str] = {}
        if caso or proposito:
            case_id = _case_id(caso)
            if case_id is None:
                errors["caso"] = _("Escriba el identificador del caso (un UUID).")
            if len(proposito.strip()) < 3:
                errors["proposito"] = _("Diga para qué consulta el caso; queda registrado.")
            if not errors:
                return RedirectResponse(
                    f"/auditoria/casos/{case_id}?" + _purpose_query(proposito), status_code=303
                )
        return console.render(
            request,
            "audit_home.html",
            400 if errors else 200,
            errors=errors,
            caso=caso,
            proposito=proposito,
        )

    return router


def _case_id(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def _purpose_query(purpose: str) -> str:
    return urlencode({"proposito": purpose.strip()})
