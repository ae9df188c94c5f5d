"""What a channel sends to open a case, and the SubmitCase command the gateway makes of it.

The body is one model per procedure, told apart by `procedure`, so that a single validation pass
reports every problem (citizen and procedure inputs alike) and the OpenAPI document shows the
inputs each procedure takes.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, create_model

from schemas.cases import case_id_for, request_fingerprint
from schemas.catalog import ProcedureSpec
from schemas.citizens import CitizenRef
from schemas.messages import Actor, Envelope, SubmitCase


class CaseSubmission(BaseModel):
    """A case a channel asks to open; the channel itself comes from its token, never the body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    procedure: str = Field(description="Code of the procedure, from GET /v1/procedures.")
    citizen: CitizenRef
    inputs: BaseModel = Field(description="The procedure's inputs (see its `inputs_schema`).")

    def normalized(self) -> dict[str, Any]:
        """The body as validated: equal requests give equal dicts, whatever their spelling."""
        return self.model_dump(mode="json")


def submission_body(catalog: dict[str, ProcedureSpec]) -> Any:
    """The request body type: one `CaseSubmission` per procedure, chosen by `procedure`."""
    variants = tuple(_variant(proc) for proc in catalog.values())
    # `Union[...]` of a run-time tuple: the `X | Y` syntax cannot be spread over a tuple.
    return Annotated[Union[variants], Field(discriminator="procedure")]  # noqa: UP007


def _variant(proc: ProcedureSpec) -> type[CaseSubmission]:
    name = "".join(part.title() for part in proc.code.split("-")) + "Submission"
    code: Any = Literal[proc.code]  # a Literal of a run-time value: a typing form mypy can't see
    model: type[CaseSubmission] = create_model(
        name,
        __base__=CaseSubmission,
        __doc__=f"Open a case for {proc.title}: {proc.description}",
        procedure=(code, Field(description="Code of the procedure.")),
        inputs=(proc.inputs, Field(description=f"Inputs of {proc.code}.")),
    )
    return model


def submit_command(submission: CaseSubmission, channel: str, idempotency_key: str) -> SubmitCase:
    return command_for(submission.normalized(), channel, idempotency_key)


def command_for(body: dict[str, Any], channel: str, idempotency_key: str) -> SubmitCase:
    """The SubmitCase a channel's request body becomes (`body` as `normalized()` gives it)."""
    case_id = case_id_for(channel, idempotency_key)
    return SubmitCase(
        envelope=Envelope(
            message_id=uuid4(),
            case_id=case_id,
            correlation_id=case_id,
            actor=Actor(kind="channel", id=channel),
            occurred_at=datetime.now(UTC),
        ),
        procedure=body["procedure"],
        citizen=body["citizen"],
        inputs=body["inputs"],
        request_fingerprint=request_fingerprint(body),
    )
