"""Probes for the supervisor and load balancers: is the process alive, can it serve."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from ..case_bus import DEPENDENCY_NAMES, CaseBus, DependencyUnavailable
from ..error_handlers import RETRY_AFTER_SECONDS
from ..problems import ServiceUnavailable, problem_content


class Health(BaseModel):
    status: Literal["ok"] = "ok"


def health_routes(bus: CaseBus) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> Health:
        return Health()

    @router.get(
        "/readyz",
        summary="NATS is connected and the ledger answers",
        responses={503: problem_content("A dependency is down; `detail` names it.")},
    )
    async def readyz() -> Health:
        try:
            await bus.ping()
        except DependencyUnavailable as exc:
            raise ServiceUnavailable(
                f"Not ready. {DEPENDENCY_NAMES[exc.dependency]} ({exc.reason}).",
                retry_after_seconds=RETRY_AFTER_SECONDS,
            ) from None
        return Health()

    return router
