"""SUNARP's back office reached over HTTP: the client the SUNARP adapter uses in a stack.

Every call has a timeout and is retried, with growing pauses, on a timeout, a refused or broken
connection and a 5xx answer, for up to `give_up_after` seconds (then `BackOfficeUnavailable`:
the adapter retries the request later). Calls that act send the step's idempotency key in the
`Idempotency-Key` header on every try, so a retry after a lost answer gets the original result.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import structlog

from services.errors import BackOfficeUnavailable

from ..sunarp import PendingFiling
from .sunarp import DecidedTransfer, Registration

log = structlog.get_logger(__name__)


class HttpSunarp:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 3.0,
        give_up_after: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.give_up_after = give_up_after
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def owner_of(self, plate: str) -> str | None:
        answer = await self._call("GET", f"/v1/vehicles/{plate}/owner")
        owner: str | None = answer["owner"]
        return owner

    async def ownership_certificate(self, plate: str, owner: str, idempotency_key: str) -> str:
        body = {"plate": plate, "owner": owner}
        answer = await self._call("POST", "/v1/ownership-certificates", body, idempotency_key)
        return str(answer["number"])

    async def observation(self, buyer: str) -> str | None:
        answer = await self._call("POST", "/v1/observations", {"buyer": buyer})
        observation: str | None = answer["observation"]
        return observation

    async def register_transfer(
        self, plate: str, seller: str, buyer: str, idempotency_key: str, reference: str
    ) -> Registration | PendingFiling:
        body = {"plate": plate, "seller": seller, "buyer": buyer, "reference": reference}
        answer = await self._call("POST", "/v1/transfers", body, idempotency_key)
        if answer["status"] == "pending":
            return PendingFiling(datetime.fromisoformat(answer["expected_by"]))
        return Registration(answer["number"], datetime.fromisoformat(answer["registered_at"]))

    async def decided_transfers(self) -> Sequence[DecidedTransfer]:
        answer = await self._call("GET", "/v1/transfers/decided")
        return [
            DecidedTransfer(
                d["idempotency_key"],
                d["reference"],
                d["number"],
                datetime.fromisoformat(d["registered_at"]),
            )
            for d in answer["decided"]
        ]

    async def answer_sent(self, idempotency_key: str) -> None:
        await self._call("POST", "/v1/transfers/answer-sent", {"idempotency_key": idempotency_key})

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.give_up_after
        pause = 0.1
        while True:
            try:
                response = await self._http.request(method, path, json=body, headers=headers)
                if response.status_code < 500:
                    response.raise_for_status()  # a 4xx is our mistake: no retry mends it
                    return None if response.status_code == 204 else response.json()
                trouble = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:  # timeouts, refused and broken connections
                trouble = type(exc).__name__
            if loop.time() + pause > deadline:
                raise BackOfficeUnavailable(f"SUNARP back office: {trouble} on {method} {path}")
            log.warning(
                "back office retry", entity="sunarp", call=f"{method} {path}", error=trouble
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
