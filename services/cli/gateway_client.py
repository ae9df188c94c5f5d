"""Submitting a case to the gateway as a channel would, with the local stack's demo token."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from services.cli.failures import CliError
from services.credentials import DevCredentials


@dataclass(frozen=True)
class Submission:
    procedure: str
    dni: str
    inputs: dict[str, str]
    idempotency_key: str

    def body(self) -> dict[str, Any]:
        return {
            "procedure": self.procedure,
            "citizen": {"document_type": "DNI", "document_number": self.dni},
            "inputs": self.inputs,
        }


@dataclass(frozen=True)
class Accepted:
    case_id: str
    status: str
    # A MAC Express site's gateway says the case waits there ("pendiente de envío").
    receipt: str | None = None


def load_credentials(path: Path) -> DevCredentials:
    if not path.exists():
        raise CliError(
            f"no credentials at {path}",
            "Start the stack first (`make up` or `ventanilla up`), "
            "or point --data-dir at the folder it uses.",
        )
    try:
        return DevCredentials.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise CliError(f"{path} is not a credentials file", str(exc)) from None


def channel_token(credentials: DevCredentials, channel: str | None) -> tuple[str, str]:
    """The chosen channel (the first demo channel by default) and its bearer token."""
    if channel is None:
        channel = next(iter(credentials.channels))
    token = credentials.channels.get(channel)
    if token is None:
        known = ", ".join(credentials.channels)
        raise CliError(f"unknown channel {channel!r}", f"Demo channels: {known}.")
    return channel, token


def submit(client: httpx.Client, token: str, submission: Submission) -> Accepted:
    """POST /v1/cases; a problem document or an unreachable gateway becomes a `CliError`."""
    try:
        response = client.post(
            "/v1/cases",
            json=submission.body(),
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": submission.idempotency_key,
            },
        )
    except httpx.TransportError as exc:
        raise CliError(
            f"the gateway at {client.base_url} is not reachable ({type(exc).__name__})",
            "Is the stack running? Start it with `make up` or `ventanilla up`.",
        ) from None
    if response.status_code in (200, 201, 202):
        payload = response.json()
        receipt = payload.get("receipt")
        return Accepted(
            case_id=str(payload["case_id"]),
            status=str(payload["status"]),
            receipt=str(receipt) if receipt is not None else None,
        )
    raise problem_error(response)


def problem_error(response: httpx.Response) -> CliError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    title = problem.get("title") or response.reason_phrase or "request failed"
    return CliError(f"{response.status_code} {title}", problem.get("detail"))
