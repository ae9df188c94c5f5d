"""What the gateway needs from the bus: submit a case, ask the ledger about it, check it is up.

`NatsCaseBus` is the hub's (nats_case_bus.py, composed of claims, submitter, ledger client and bus
overview), `SiteCaseBus` a MAC Express site's (services/sites); unit tests use a hand-written
fake with the same behaviour.
"""

from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.dead_letters import DeadLetterList, DeadLetterQuery, RedriveAnswer, RedriveRequest
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.messages import SubmitCase
from schemas.queries import BundleAnswer, ReadContext, VerifyAnswer
from schemas.sla import SlaQuery, SlaReport
from schemas.views import BusOverview, CaseHistory, CaseView, CitizenAccessLog
from services.errors import BusUnavailable, VentanillaError

Dependency = Literal["nats", "ledger"]
# How the gateway took a submission: "accepted", a new case claimed and its command published;
# "repeat", the same request as one submitted before (not a step's outcome: schemas/messages.py).
Admission = Literal["accepted", "repeat"]

DEPENDENCY_NAMES: dict[Dependency, str] = {
    "nats": "The message bus (NATS) is not reachable",
    "ledger": "The case ledger is not answering",
}


class IdempotencyConflict(VentanillaError):
    """The channel reused an Idempotency-Key for a different request."""

    def __init__(self, case_id: UUID) -> None:
        super().__init__(str(case_id))
        self.case_id = case_id


class DependencyUnavailable(BusUnavailable):
    """A dependency of the gateway did not answer; `dependency` says which one."""

    def __init__(self, dependency: Dependency, reason: str) -> None:
        super().__init__(f"{dependency}: {reason}")
        self.dependency: Dependency = dependency
        self.reason = reason


class Claim(BaseModel):
    """A channel's claim on a case id, recorded before its SubmitCase command is published.

    The hub keeps it in the idempotency bucket, a site in its claims bucket (claims.py), under a
    key that holds the case id, and the rest as the value (no personal data).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    case_id: UUID
    channel: str
    procedure: str
    fingerprint: str
    claimed_at: datetime


class CaseBus(Protocol):
    async def submit(self, command: SubmitCase) -> Admission:
        """Claim the case id and publish the command.

        `repeat` when the same request was submitted before (the command is published again with
        the same message id, which the bus drops as a duplicate). Raises `IdempotencyConflict`
        when the case id was claimed by a different request, `DependencyUnavailable` when the bus
        does not answer.
        """
        ...

    async def case(self, case_id: UUID) -> CaseView | None:
        """The case as the ledger sees it, a `submitted` view while only claimed, else None."""
        ...

    async def history(
        self,
        case_id: UUID,
        *,
        as_of: datetime | None = None,
        version: int | None = None,
        read: ReadContext | None = None,
    ) -> CaseHistory | None:
        """The case's ledger events in order (none yet while only claimed), else None.

        With `as_of` or `version`: a replay, the case as it stood then (None if it did not exist).
        With `read`: the ledger records the read (a refused one: only records it, answers None).
        """
        ...

    async def access_log(
        self, document_number: str, *, read: ReadContext | None = None
    ) -> CitizenAccessLog:
        """Every DL 1211 exchange about this citizen and every read of their data, from the
        ledger; with `read`, this read is recorded first."""
        ...

    async def overview(self) -> BusOverview:
        """Queues per entity, stream levels and dead letters, from the NATS server."""
        ...

    async def sla(self, query: SlaQuery) -> SlaReport:
        """The ANS report of the period, from the ledger's projection."""
        ...

    async def indicators(self, query: IndicatorsQuery) -> IndicatorsReport:
        """The management indicators of the period, from the ledger's projections, with each
        source's dead letters from the NATS server."""
        ...

    async def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        """The dead letters, payloads redacted, with their redrives, from the ledger's desk."""
        ...

    async def redrive(self, request: RedriveRequest) -> RedriveAnswer:
        """Redrive letters through the ledger's desk: each once, recorded with its reason."""
        ...

    async def ping(self) -> None:
        """Return when NATS and the ledger answer; raise `DependencyUnavailable` otherwise."""
        ...

    async def record_read(self, case_id: UUID, read: ReadContext) -> int:
        """The ledger records a read of the case made outside it (a clerk's case page);
        how many of the case's citizens it concerned."""
        ...

    async def verify(self) -> VerifyAnswer:
        """The ledger checks every hash chain and signed checkpoint (`audit verify`)."""
        ...

    async def bundle(self, case_id: UUID, read: ReadContext) -> BundleAnswer:
        """The case's evidence bundle (`audit export`); the ledger records the read."""
        ...


def claim_of(command: SubmitCase) -> Claim:
    envelope = command.envelope
    return Claim(
        case_id=envelope.case_id,
        channel=envelope.actor.id,
        procedure=command.procedure,
        fingerprint=command.request_fingerprint,
        claimed_at=envelope.occurred_at,
    )


def submitted_view(claim: Claim) -> CaseView:
    """What a client polling right after its 202 sees until the ledger records the case."""
    return CaseView(
        case_id=claim.case_id,
        procedure=claim.procedure,
        channel=claim.channel,
        status="submitted",
        submitted_at=claim.claimed_at,
        updated_at=claim.claimed_at,
        version=0,
        steps=[],
    )


def submitted_history(claim: Claim) -> CaseHistory:
    return CaseHistory(case_id=claim.case_id, channel=claim.channel, events=[])
