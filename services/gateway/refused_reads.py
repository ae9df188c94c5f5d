"""Reads of personal data refused before their route ran (no token, a bad one, the wrong kind of
token or account), recorded like the reads the routes refuse themselves.

The route matched, so its path template and parameters are known even though its dependencies
failed: for the routes that read a case's or a citizen's personal data, a refused read is sent
to the ledger with whoever asked (the token's principal, the page's account, else `unknown:
anonymous`) and the purpose they gave. Recording never changes the answer: if the ledger cannot
take it, the refusal is still answered and the missed record logged (without personal data).
"""

import re
from uuid import UUID

import structlog
from fastapi import Request

from schemas.identifiers import DNI_PATTERN
from schemas.queries import ReadContext
from services.errors import BusUnavailable

from .case_bus import CaseBus
from .reads import request_id

log = structlog.get_logger(__name__)

# Route templates that read a case's personal data, and those that read a citizen's.
CASE_READS = frozenset(
    {
        "/v1/cases/{case_id}/history",
        "/auditoria/casos/{case_id}",
        "/auditoria/casos/{case_id}/paquete",
    }
)
CITIZEN_READS = frozenset({"/v1/citizens/{document_number}/access-log"})
ANONYMOUS = ("unknown", "anonymous")


def route_template(request: Request) -> str | None:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


async def record_refused_read(bus: CaseBus, request: Request) -> None:
    """Record the refused read `request` asked for, if its route reads personal data."""
    template = route_template(request)
    if template not in CASE_READS and template not in CITIZEN_READS:
        return
    if getattr(request.state, "read_recorded", False):
        return  # the route recorded its own refusal
    principal = getattr(request.state, "principal", None)  # a token's (auth.py)
    account = getattr(request.state, "reader", None)  # a page's account (web/console.py)
    reader: tuple[str, str] = ANONYMOUS
    if principal is not None:
        reader = (principal.kind, principal.id)
    elif account is not None:
        reader = account
    purpose = request.query_params.get("purpose") or request.query_params.get("proposito")
    read = ReadContext(
        reader_kind=reader[0],
        reader_id=reader[1],
        purpose=(purpose or "")[:500] or None,
        request_id=request_id(request),
        service="gateway" if template.startswith("/v1/") else "console",
        refused=True,
    )
    try:
        if template in CASE_READS:
            case_id = _uuid(str(request.path_params.get("case_id", "")))
            if case_id is not None:
                await bus.history(case_id, read=read)
        else:
            number = str(request.path_params.get("document_number", ""))
            if re.fullmatch(DNI_PATTERN, number):
                await bus.access_log(number, read=read)
    except BusUnavailable as exc:
        log.warning("refused read not recorded", route=template, reason=str(exc))
    request.state.read_recorded = True


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
