"""Turning bytes from the bus into typed messages, or a reason why not."""

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from services.errors import Unprocessable

M = TypeVar("M", bound=BaseModel)


def decode(model: type[M], data: bytes) -> M:
    """Parse and validate in one step; the reason names the first problem, never the values."""
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        if first["type"] == "json_invalid":
            raise Unprocessable("malformed JSON") from None
        raise Unprocessable(
            f"not a valid {model.__name__}: {where}: {first['msg']} "
            f"({exc.error_count()} problem(s))"
        ) from None
