"""The counter console's submit path under load: a logged-in clerk posting the submit form.

Each case is what a browser sends after the preview: one form post with the CSRF token, the
idempotency key and the answers, over a session cookie, answered by a redirect to the case
page. Compared in the same run with `POST /v1/cases` under a bearer token.
"""

import asyncio
import re
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from schemas.cases import case_id_for
from services.stack.up import StackInfo

CLERK = "asesor.lima-norte"  # a demo clerk of `ventanilla up`, at mac-lima-norte
CHANNEL = "mac-lima-norte"
ANSWERS = {"citizen.document_number": "40000001", "inputs.reason": "perdida"}

Sender = Callable[[int], Coroutine[Any, Any, str]]


# Connections of each load-generator HTTP client. The generator also holds its requests to
# that many in flight (e2e.py): httpx's pool scans its whole queue for every request it
# assigns, so a queue of thousands made the generator, not the gateway, the bottleneck.
CONNECTIONS = 16


async def logged_in(info: StackInfo) -> tuple[httpx.AsyncClient, str]:
    """A client holding a clerk session, and the CSRF token of its forms."""
    client = httpx.AsyncClient(
        base_url=info.gateway_url,
        limits=httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS),
        timeout=30.0,
    )
    page = await client.get("/ingresar")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if found is None:
        raise RuntimeError("the login page has no CSRF token")
    csrf = found.group(1)
    password = info.credentials.clerks[CLERK].password
    login = await client.post(
        "/ingresar", data={"csrf_token": csrf, "usuario": CLERK, "contrasena": password}
    )
    if login.status_code != 303:
        raise RuntimeError(f"the demo clerk could not log in: {login.status_code}")
    return client, csrf


def console_sender(client: httpx.AsyncClient, csrf: str, count: int) -> tuple[list[str], Sender]:
    keys = [uuid.uuid4().hex for _ in range(count)]
    ids = [str(case_id_for(CHANNEL, k)) for k in keys]

    async def send(i: int) -> str:
        form = {"csrf_token": csrf, "clave": keys[i], **ANSWERS, "consentimiento": "si"}
        for attempt in range(5):
            try:
                response = await client.post("/tramites/duplicado-dni/enviar", data=form)
            except httpx.TransportError:
                await asyncio.sleep(0.1 * (attempt + 1))
                continue
            if response.status_code != 303:
                raise RuntimeError(f"the console answered {response.status_code}")
            return ids[i]
        raise RuntimeError("the gateway kept dropping the connection")

    return ids, send
