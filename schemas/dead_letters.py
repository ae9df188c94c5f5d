"""The dead-letter desk as the bus answers it: the letters with their payloads redacted, and
redrives, each recorded once with who asked and why (docs/operations.md)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DeadLetterQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str | None = Field(default=None, description="Only letters filed by this source.")
    limit: int = Field(default=200, ge=1, le=1000)


class Redrive(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    operator: str
    reason: str


class DeadLetterView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    filed_by: str = Field(description="Who gave up on it: an entity id or `ledger`.")
    reason: str
    origin_subject: str
    origin_stream: str
    origin_sequence: int
    size: int
    redacted: str = Field(description="The payload's shape with every value masked.")
    redriven: Redrive | None = None


class DeadLetterList(BaseModel):
    model_config = ConfigDict(frozen=True)

    letters: list[DeadLetterView]


class RedriveRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    letter_ids: list[int] = Field(min_length=1, max_length=200)
    operator: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=3, max_length=500)


class RedriveResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    outcome: Literal["redriven", "already-redriven", "missing", "failed"]
    detail: str = ""


class RedriveAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    results: list[RedriveResult]
