"""The citizen's access log as the auditor reads it: one list, newest first, within a period.

Exchanges between entities (DL 1211) and reads of the citizen's data ("consultado por") side by
side, as rows of the same shape for the page and for the CSV export.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from schemas.views import CitizenAccessLog

CSV_COLUMNS = (
    "fecha_utc",
    "tipo",
    "caso",
    "de",
    "para",
    "datos",
    "proposito",
    "base_legal",
    "accion",
    "servicio",
    "solicitud",
    "rechazada",
    "restringida",
)


@dataclass(frozen=True)
class AccessRow:
    occurred_at: datetime
    kind: str  # "intercambio" (entity to entity) or "consulta" (a read)
    case_id: str
    source: str
    recipient: str
    fields: str
    purpose: str
    legal_basis: str
    action: str
    service: str
    request_id: str
    refused: bool
    restricted: bool


def access_rows(log: CitizenAccessLog, since: datetime, until: datetime) -> list[AccessRow]:
    """Every row with since <= time < until, newest first."""
    rows = [
        AccessRow(
            occurred_at=e.occurred_at,
            kind="intercambio",
            case_id=str(e.case_id),
            source=f"{e.from_entity} ({e.from_step})",
            recipient=f"{e.to_entity} ({e.to_step})",
            fields=", ".join(e.fields),
            purpose=e.purpose,
            legal_basis=e.legal_basis,
            action=e.procedure,
            service="",
            request_id="",
            refused=False,
            restricted=False,
        )
        for e in log.entries
    ]
    rows += [
        AccessRow(
            occurred_at=r.occurred_at,
            kind="consulta",
            case_id=str(r.case_id) if r.case_id else "",
            source=r.from_entity,
            recipient=f"{r.to_entity} ({r.reader})",
            fields="",
            purpose=r.purpose or "",
            legal_basis="",
            action=r.action,
            service=r.service,
            request_id=r.request_id or "",
            refused=r.refused,
            restricted=r.restricted,
        )
        for r in log.reads
    ]
    kept = [r for r in rows if since <= r.occurred_at < until]
    return sorted(kept, key=lambda r: r.occurred_at, reverse=True)


def access_csv(rows: list[AccessRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.occurred_at.isoformat(),
                r.kind,
                r.case_id,
                r.source,
                r.recipient,
                r.fields,
                r.purpose,
                r.legal_basis,
                r.action,
                r.service,
                r.request_id,
                "si" if r.refused else "no",
                "si" if r.restricted else "no",
            ]
        )
    return out.getvalue()
