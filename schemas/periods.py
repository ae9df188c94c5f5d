"""The period an operator's report covers, as the bus is asked for it."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class PeriodQuery(BaseModel):
    """From `start` (inclusive) to `end` (exclusive); the gateway checks `end` comes after."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
