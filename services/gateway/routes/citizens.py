"""A citizen's access log: who used their data, under which legal basis (auditors only)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from schemas.identifiers import Dni
from schemas.views import CitizenAccessLog
from services.credentials import Principal

from ..auth import Authenticate, holding
from ..case_bus import CaseBus
from ..problems import problem_content
from ..reads import PURPOSE, RESTRICTED, may_restrict, read_context, require_purpose
from .cases import INVALID, UNAUTHENTICATED, UNAVAILABLE

DOCUMENT_NUMBER = Path(
    description="The citizen's DNI: exactly 8 digits. It is never written to logs or traces.",
    examples=["40000001"],
)


def citizen_routes(bus: CaseBus, authenticate: Authenticate) -> APIRouter:
    router = APIRouter(prefix="/v1/citizens", tags=["citizens"])

    auditor = holding(authenticate, "audit:read")

    @router.get(
        "/{document_number}/access-log",
        summary="Every exchange of a citizen's data between entities",
        responses={
            **UNAUTHENTICATED,
            403: problem_content("Only auditor tokens (scope `audit:read`)."),
            **INVALID,
            **UNAVAILABLE,
        },
    )
    async def access_log(
        request: Request,
        document_number: Annotated[Dni, DOCUMENT_NUMBER],
        principal: Annotated[Principal, Depends(auditor)],
        purpose: Annotated[str | None, PURPOSE] = None,
        restricted: Annotated[bool, RESTRICTED] = False,
    ) -> CitizenAccessLog:
        """Each `DataShared` in the cases the citizen takes part in (as applicant or named in
        the inputs, e.g. as seller): which entity received which fields from which entity,
        when, in which case, for which purpose and under which legal basis (DL 1211); and
        each read of the citizen's personal data (`reads`: who, when, what, why), this one
        included. `purpose` is required."""
        require_purpose(principal, purpose)
        may_restrict(principal, restricted)
        read = read_context(request, principal, purpose, restricted=restricted)
        return await bus.access_log(document_number, read=read)

    return router
