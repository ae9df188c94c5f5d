"""A process's heartbeat: that it is alive, since when, and when it last did work."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Heartbeat(BaseModel):
    model_config = ConfigDict(frozen=True)

    process: str = Field(description="`ledger`, or the entity id of an adapter.")
    sent_at: datetime
    started_at: datetime
    last_activity_at: datetime | None = Field(
        description="When it last handled a message; null: not since it started."
    )
    handled: int = Field(description="Messages handled since it started.")
    interval_s: float = Field(description="The next heartbeat comes within this many seconds.")
