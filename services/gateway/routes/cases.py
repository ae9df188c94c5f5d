"""Cases: a channel submits one and follows it; an auditor reads any."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from schemas.procedures import catalog
from schemas.views import CaseHistory, CaseView
from services.credentials import Principal

from ..auth import (
    NOT_FOUND_DETAIL,
    Authenticate,
    channel_of,
    ensure_visible,
    may_follow_cases,
    may_replay,
)
from ..case_bus import CaseBus
from ..json_body import UniqueKeysRoute
from ..problems import CaseNotVisible, Forbidden, problem_content
from ..reads import PURPOSE, RESTRICTED, may_restrict, read_context, require_purpose
from ..submission import CaseSubmission, submission_body, submit_command

if TYPE_CHECKING:
    SubmissionBody = CaseSubmission
else:
    SubmissionBody = submission_body(catalog())

IDEMPOTENCY_KEY = Header(
    alias="Idempotency-Key",
    min_length=1,
    max_length=200,
    pattern=r"^[\x20-\x7e]+$",
    description=(
        "A key the channel chooses for this submission (e.g. a UUID), 1 to 200 printable "
        "characters. Sending the same request with the same key again returns the same case; "
        "the same key with a different request is refused with 409."
    ),
    examples=["3f0b8c52-7a0e-4f7e-9d0e-2a8c6f1e1b11"],
)
CASE_ID = Path(description="The case id returned by POST /v1/cases.")
AS_OF = Query(
    description="Auditors: replay the case as it stood at this moment (ISO 8601 with a zone).",
    examples=["2026-11-30T10:15:00Z"],
)
VERSION = Query(ge=1, description="Auditors: replay the case as of this event version.")


class CaseAccepted(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID = Field(description="Use it to follow the case: GET /v1/cases/{case_id}.")
    status: Literal["submitted"] = "submitted"
    receipt: str | None = Field(
        default=None,
        description="At a MAC Express site: what the advisor's receipt says (the case waits "
        "at the site until its link to the hub forwards it).",
    )


Responses = dict[int | str, dict[str, Any]]

UNAUTHENTICATED: Responses = {
    401: problem_content("Missing, unknown or revoked token."),
    429: problem_content("This token spent its requests per minute; see `Retry-After`."),
}
UNAVAILABLE: Responses = {503: problem_content("NATS or the ledger is not answering; retry later.")}
INVALID: Responses = {422: problem_content("The request is not valid; `errors` lists each field.")}
READ_ERRORS: Responses = {
    **UNAUTHENTICATED,
    403: problem_content("An operator token may not read cases."),
    404: problem_content("No such case, or it belongs to another channel."),
    **INVALID,
    **UNAVAILABLE,
}


def case_routes(
    bus: CaseBus, authenticate: Authenticate, *, receipt: str | None = None
) -> APIRouter:
    router = APIRouter(prefix="/v1/cases", tags=["cases"], route_class=UniqueKeysRoute)
    Caller = Annotated[Principal, Depends(authenticate)]

    async def submitting_channel(principal: Caller) -> str:
        return channel_of(principal)

    async def case_reader(principal: Caller) -> Principal:
        may_follow_cases(principal)
        return principal

    @router.post(
        "",
        status_code=202,
        response_model_exclude_none=True,
        summary="Submit a case",
        response_description="Accepted: the bus holds the command.",
        responses={
            202: {
                "headers": {
                    "Location": {
                        "description": "The case: /v1/cases/{case_id}.",
                        "schema": {"type": "string"},
                    }
                }
            },
            **UNAUTHENTICATED,
            403: problem_content("Only channel tokens with the scope `cases:submit`."),
            409: problem_content("The Idempotency-Key was used for a different request."),
            413: problem_content("The body is larger than 64 KiB."),
            **INVALID,
            **UNAVAILABLE,
        },
    )
    async def submit_case(
        request: Request,
        response: Response,
        channel: Annotated[str, Depends(submitting_channel)],
        submission: SubmissionBody,
        idempotency_key: Annotated[str, IDEMPOTENCY_KEY],
    ) -> CaseAccepted:
        """Open a case for a procedure; the channel is the token's, never the body's.

        Accepted means the bus holds the command; follow the case with its id.
        """
        command = submit_command(submission, channel, idempotency_key)
        case_id = command.envelope.case_id
        request.state.case_id = case_id
        request.state.submission = await bus.submit(command)
        response.headers["Location"] = request.app.url_path_for("get_case", case_id=str(case_id))
        return CaseAccepted(case_id=case_id, receipt=receipt)

    @router.get("/{case_id}", summary="A case's status and steps", responses=READ_ERRORS)
    async def get_case(
        request: Request,
        case_id: Annotated[UUID, CASE_ID],
        principal: Annotated[Principal, Depends(case_reader)],
    ) -> CaseView:
        """Status (submitted, in_progress, completed, rejected) and each step with its times."""
        request.state.case_id = case_id
        view = await bus.case(case_id)
        if view is None:
            raise CaseNotVisible(NOT_FOUND_DETAIL)
        ensure_visible(principal, view.channel)
        return view

    @router.get(
        "/{case_id}/history",
        summary="A case's ledger events, or the case as it stood at a moment",
        responses={
            **READ_ERRORS,
            403: problem_content("Operators may not read cases; only auditors may replay."),
        },
    )
    async def get_case_history(
        request: Request,
        case_id: Annotated[UUID, CASE_ID],
        principal: Annotated[Principal, Depends(case_reader)],
        as_of: Annotated[datetime | None, AS_OF] = None,
        version: Annotated[int | None, VERSION] = None,
        purpose: Annotated[str | None, PURPOSE] = None,
        restricted: Annotated[bool, RESTRICTED] = False,
    ) -> CaseHistory:
        """Every ledger event of the case in order: position, type, time, actor and data.

        Auditors may replay: with `as_of` or `version`, the events up to that point, the case's
        status and steps as they stood then (`state`) and what each entity had received.
        Every read is recorded with its `purpose` (required of auditors), refused ones too.
        """
        request.state.case_id = case_id
        require_purpose(principal, purpose)
        may_restrict(principal, restricted)
        replay = as_of is not None or version is not None
        if replay:
            try:
                may_replay(principal)
            except Forbidden:
                refused = read_context(request, principal, purpose, refused=True)
                await bus.history(case_id, as_of=as_of, version=version, read=refused)
                request.state.read_recorded = True  # not again by the refusal's handler
                raise
        # The ledger records the read, as refused when a channel asks for another's case.
        read = read_context(request, principal, purpose, restricted=restricted)
        history = await bus.history(case_id, as_of=as_of, version=version, read=read)
        if history is None:
            raise CaseNotVisible(NOT_FOUND_DETAIL)
        ensure_visible(principal, history.channel)
        return history

    return router
