"""SUNAT: registers a citizen as a taxpayer (RUC) under the name RENIEC holds."""

from datetime import datetime
from typing import Protocol

from schemas.entities.sunat import ENTITY, INSCRIPCION_RUC, RucRegistered, RucRegistrationRequest

from .sdk import EntityAdapter, handle


class Taxpayer(Protocol):
    ruc: str
    registered_at: datetime


class SunatBackOffice(Protocol):
    async def register(
        self, document_number: str, activity_code: str, idempotency_key: str
    ) -> Taxpayer: ...


async def inscripcion_ruc(req: RucRegistrationRequest, sunat: SunatBackOffice) -> RucRegistered:
    taxpayer = await sunat.register(
        req.citizen.document_number, req.activity_code, str(req.operation_id)
    )
    return RucRegistered(ruc=taxpayer.ruc, registered_at=taxpayer.registered_at)


adapter = EntityAdapter(ENTITY, handlers=(handle(INSCRIPCION_RUC, inscripcion_ruc),))
