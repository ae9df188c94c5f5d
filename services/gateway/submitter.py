"""Opening a case on the bus: claim its id, then publish its SubmitCase command on JetStream.

The command is published after every successful or repeated claim with the same `Nats-Msg-Id`,
so a gateway that crashed between claim and publish is repaired by the client's retry, and a
repeat costs nothing (the server or the ledger drops it).
"""

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from nats.js import JetStreamContext

from schemas.cases import submit_msg_id
from schemas.messages import SubmitCase
from services.bus.publishing import publish

from .case_bus import Admission, claim_of
from .claims import ClaimBucket
from .nats_calls import nats_errors


@dataclass(frozen=True)
class CaseSubmitter:
    """Claims in `claims`, publishes on `subject(channel, case id)`; `CaseBus.submit` says
    the rules."""

    js: JetStreamContext
    claims: ClaimBucket
    subject: Callable[[str, UUID], str]
    publish_timeout: float = 2.0
    give_up_after: float = 5.0

    async def submit(self, command: SubmitCase) -> Admission:
        claim = claim_of(command)
        admission = await self.claims.claim(claim)
        with nats_errors():
            await publish(
                self.js,
                self.subject(claim.channel, claim.case_id),
                command,
                msg_id=submit_msg_id(claim.case_id),
                ack_timeout=self.publish_timeout,
                give_up_after=self.give_up_after,
            )
        return admission
