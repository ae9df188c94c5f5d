"""Migraciones: issues passports with the identity RENIEC confirmed and the fee receipt."""

from datetime import date
from typing import Protocol

from schemas.entities.migraciones import EMISION_PASAPORTE, ENTITY, PassportIssued, PassportRequest

from .sdk import EntityAdapter, handle


class Passport(Protocol):
    number: str
    pickup_date: date


class MigracionesBackOffice(Protocol):
    async def issue_passport(self, document_number: str, idempotency_key: str) -> Passport: ...


async def emision_pasaporte(
    req: PassportRequest, migraciones: MigracionesBackOffice
) -> PassportIssued:
    passport = await migraciones.issue_passport(req.citizen.document_number, str(req.operation_id))
    return PassportIssued(passport_number=passport.number, pickup_date=passport.pickup_date)


adapter = EntityAdapter(ENTITY, handlers=(handle(EMISION_PASAPORTE, emision_pasaporte),))
