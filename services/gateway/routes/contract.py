"""The bus contract, next to the HTTP one: `GET /asyncapi.json` beside `/openapi.json`."""

import asyncio

from fastapi import APIRouter, Response


def _bus_contract() -> str:
    # Imported on the first request: the generator loads FastStream and every adapter (about
    # a second and a half), which the gateway does not otherwise need to start.
    from services.asyncapi.document import bus_contract

    # Rendered once per process, from the entity packages this gateway has registered.
    return bus_contract()


def contract_routes() -> APIRouter:
    router = APIRouter()

    # Not in the OpenAPI document, as /openapi.json itself is not: both describe the contract.
    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> Response:
        # Off the event loop: the first rendering must not hold up the requests in flight.
        text = await asyncio.to_thread(_bus_contract)
        return Response(text, media_type="application/json")

    return router
