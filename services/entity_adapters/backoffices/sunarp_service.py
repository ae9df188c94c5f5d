"""SUNARP's reference back office as its own small HTTP service, with its own SQLite store.

It serves the fake registry (`FakeSunarp`) the way most real back offices are reached: over
REST, and every call that acts carries an `Idempotency-Key` header. The effect is stored once
per key in the service's own database (`<data dir>/backoffices/sunarp.sqlite`), so a call
repeated after a timeout, a lost answer or a crash of this service gets the original result
and never registers a transfer twice. A transfer the registrar decides later (demo citizen
40000008) is answered `pending` with `expected_by`; `GET /v1/transfers/decided` lists the
decided ones until the adapter says it sent their answer.

Documents (DNIs) travel in bodies only, never in paths or query strings, and there is no
access log.
"""

import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.errors import BackOfficeUnavailable

from ..sunarp import PendingFiling
from .effects import EffectLog
from .sunarp import FakeSunarp

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OwnerAnswer(_Body):
    owner: str | None


class CertificateOrder(_Body):
    plate: str
    owner: str


class CertificateIssued(_Body):
    number: str


class ObservationQuery(_Body):
    buyer: str


class ObservationAnswer(_Body):
    observation: str | None


class TransferFiling(_Body):
    plate: str
    seller: str
    buyer: str
    reference: str = Field(description="The filer's own reference, given back with a decision.")


class TransferAnswer(_Body):
    status: Literal["registered", "pending"]
    number: str | None = None
    registered_at: datetime | None = None
    expected_by: datetime | None = None


class DecidedTransfer(_Body):
    idempotency_key: str
    reference: str
    number: str
    registered_at: datetime


class DecidedTransfers(_Body):
    decided: list[DecidedTransfer]


class AnswerSent(_Body):
    idempotency_key: str = Field(description="The filing whose answer the filer published.")


def create_app(registry: FakeSunarp) -> FastAPI:
    app = FastAPI(title="SUNARP reference back office", docs_url=None, redoc_url=None)

    @app.exception_handler(BackOfficeUnavailable)
    async def unavailable(request: Request, exc: BackOfficeUnavailable) -> JSONResponse:
        problem = {"title": "Service unavailable", "status": 503, "detail": str(exc)}
        return JSONResponse(problem, status_code=503, media_type="application/problem+json")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/vehicles/{plate}/owner")
    async def owner(plate: str) -> OwnerAnswer:
        return OwnerAnswer(owner=await registry.owner_of(plate))

    @app.post("/v1/ownership-certificates")
    async def certificate(order: CertificateOrder, key: IdempotencyKey) -> CertificateIssued:
        return CertificateIssued(
            number=await registry.ownership_certificate(order.plate, order.owner, key)
        )

    @app.post("/v1/observations")
    async def observation(query: ObservationQuery) -> ObservationAnswer:
        return ObservationAnswer(observation=await registry.observation(query.buyer))

    @app.post("/v1/transfers")
    async def transfer(filing: TransferFiling, key: IdempotencyKey) -> TransferAnswer:
        done = await registry.register_transfer(
            filing.plate, filing.seller, filing.buyer, key, filing.reference
        )
        if isinstance(done, PendingFiling):
            return TransferAnswer(status="pending", expected_by=done.expected_by)
        return TransferAnswer(
            status="registered", number=done.number, registered_at=done.registered_at
        )

    @app.get("/v1/transfers/decided")
    async def decided() -> DecidedTransfers:
        found = await registry.decided_transfers()
        return DecidedTransfers(
            decided=[
                DecidedTransfer(
                    idempotency_key=t.idempotency_key,
                    reference=t.reference,
                    number=t.number,
                    registered_at=t.registered_at,
                )
                for t in found
            ]
        )

    @app.post("/v1/transfers/answer-sent", status_code=204)
    async def answer_sent(sent: AnswerSent) -> None:
        await registry.answer_sent(sent.idempotency_key)

    return app


def serve(store: Path, host: str, port: int) -> None:
    """Run the service in the foreground until SIGTERM or SIGINT."""
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    app = create_app(FakeSunarp(EffectLog(store)))
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
