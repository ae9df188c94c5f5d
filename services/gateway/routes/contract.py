"""The bus contract, next to the HTTP one: `GET /asyncapi.json` beside `/openapi.json`."""

from fastapi import APIRouter, Response

from services.asyncapi.document import bus_contract


def contract_routes() -> APIRouter:
    router = APIRouter()

    # Not in the OpenAPI document, as /openapi.json itself is not: both describe the contract.
    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> Response:
        # Rendered once per process, from the entity packages this gateway has registered.
        return Response(bus_contract(), media_type="application/json")

    return router
