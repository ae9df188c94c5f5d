"""The ledger's checkpoint keys, public, at a well-known path: what an auditor pins to check
exported bundles offline. Current and retired keys, so evidence signed before a rotation still
verifies. Read from the key list the ledger keeps in the data dir, on every request (it is small
and changes only when a key is rotated)."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.case_ledger.audit.keys import BadKey, key_list_document, read_key_list

from ..problems import ServiceUnavailable, problem_content

PATH = "/.well-known/ventanilla/checkpoint-keys.json"


def checkpoint_key_routes(key_list: Path | None) -> APIRouter:
    router = APIRouter(tags=["audit"])

    @router.get(
        PATH,
        summary="The ledger's checkpoint public keys, current and retired",
        response_description="`ventanilla-checkpoint-keys/1` (docs/bundle-format.md, Keys).",
        responses={503: problem_content("The key list in the data dir is unreadable.")},
    )
    async def checkpoint_keys() -> JSONResponse:
        try:
            entries = read_key_list(key_list) if key_list is not None else []
            document: dict[str, Any] = key_list_document(entries)
            for entry in entries:
                entry.public_key()  # a list whose ids do not match its keys is not served
        except BadKey as exc:
            raise ServiceUnavailable(
                f"The checkpoint key list is unreadable: {exc}", retry_after_seconds=60
            ) from None
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})

    return router
