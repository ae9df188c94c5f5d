"""Reads of personal data through the gateway: who asks, why, and under which request id.

Every history, replay and access-log read is recorded by the ledger (see
services/case_ledger/reads.py) with what this module gathers; a read the gateway refuses is
sent to be recorded too. Auditors must say why they read: `purpose` is required of them.
"""

import uuid

from fastapi import Query, Request
from opentelemetry import trace

from schemas.queries import ReadContext
from services.credentials import Principal

from .problems import FieldProblem, Forbidden, InvalidRequest

PURPOSE = Query(
    min_length=3,
    max_length=500,
    description="Why this personal data is read: recorded with the read and shown in the "
    "citizen's access log. Required of auditors.",
    examples=["Control interno: reclamo 2026-117"],
)


RESTRICTED = Query(
    description="Auditors: this read is part of an investigation the law allows to keep from "
    "the citizen for a time; it is recorded as restricted (hidden from the citizen's own view, "
    "shown to auditors).",
)


def require_purpose(principal: Principal, purpose: str | None) -> None:
    if principal.kind == "auditor" and not purpose:
        raise InvalidRequest(
            "Auditors must say why they read personal data: add ?purpose=… to the request.",
            errors=[FieldProblem(field="purpose", message="required of auditors")],
        )


def request_id(request: Request) -> str:
    """The caller's X-Request-Id, else this request's trace id, else a fresh one."""
    given = request.headers.get("x-request-id")
    if given:
        return given[:200]
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else uuid.uuid4().hex


def may_restrict(principal: Principal, restricted: bool) -> None:
    if restricted and principal.kind != "auditor":
        raise Forbidden("Only auditors may record a read as restricted.")


def read_context(
    request: Request,
    principal: Principal,
    purpose: str | None,
    *,
    refused: bool = False,
    restricted: bool = False,
) -> ReadContext:
    return ReadContext(
        reader_kind=principal.kind,
        reader_id=principal.id,
        purpose=purpose,
        request_id=request_id(request),
        service="gateway",
        refused=refused,
        restricted=restricted,
    )
