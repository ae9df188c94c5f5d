"""Request bodies whose JSON repeats a key are refused, not read with the last copy winning.

`json.loads`, which FastAPI uses, keeps the last of two equal keys: a body with
`"procedure": "pasaporte-electronico"` followed by `"procedure": "duplicado-dni"` would open a
`duplicado-dni`, while a proxy, a log or an audit tool that keeps the first copy reads a
passport. RFC 8259 leaves such a document's meaning to each reader, so the gateway accepts none:
the route answers 422 naming the repeated field before FastAPI parses the body.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

REPEATED_KEY = "json_repeated_key"  # the error type validation.py words for the caller


class UniqueKeysRoute(APIRoute):
    """An APIRoute that refuses a JSON body in which an object repeats a key."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def refuse_repeated_keys(request: Request) -> Response:
            if _read_as_json(request):
                where = repeated_key(await request.body())  # starlette keeps the bytes for FastAPI
                if where is not None:
                    raise RequestValidationError(
                        [{"type": REPEATED_KEY, "loc": ("body", *where), "msg": "repeated key"}]
                    )
            return await handler(request)

        return refuse_repeated_keys


def repeated_key(document: bytes) -> tuple[str | int, ...] | None:
    """Where the first repeated key stands (its path, ending with the key), or None.

    A body that is not JSON, or nested too deeply to parse, gives None here: FastAPI's own
    parsing then answers it as it answers any such body.
    """
    try:
        tree = json.loads(document, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the stack
        return None
    # Walked with a stack of its own: a document may be nested as deep as json could parse.
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(tree, ())]
    while pending:
        node, path = pending.pop()
        children: list[tuple[Any, tuple[str | int, ...]]] = []
        if isinstance(node, _Pairs):
            seen: set[str] = set()
            for key, value in node:
                if key in seen:
                    return (*path, key)
                seen.add(key)
                children.append((value, (*path, key)))
        elif isinstance(node, list):
            children = [(item, (*path, index)) for index, item in enumerate(node)]
        pending.extend(reversed(children))  # depth first, in document order
    return None


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as written: its (key, value) pairs in order, repeats included."""


def _read_as_json(request: Request) -> bool:
    """The content types FastAPI parses as JSON: application/json and application/*+json."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )
