"""Hand-written fakes of our own interfaces: an in-memory CaseBus and a gateway built on it,
and a CaseStatusFeed.

The fake keeps what the real bus keeps: idempotency claims by case id, the command stream
deduplicated by `Nats-Msg-Id` (as JetStream does), and the ledger's views of recorded cases.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from schemas.cases import submit_msg_id
from schemas.dead_letters import (
    DeadLetterList,
    DeadLetterQuery,
    RedriveAnswer,
    RedriveRequest,
    RedriveResult,
)
from schemas.event_types import EventType
from schemas.indicators import IndicatorsQuery, IndicatorsReport
from schemas.messages import SubmitCase
from schemas.queries import BundleAnswer, ReadContext, VerifyAnswer, VerifyFinding
from schemas.sla import SlaQuery, SlaReport
from schemas.views import (
    BusOverview,
    CaseHistory,
    CaseView,
    CitizenAccessLog,
    HistoryEntry,
    StepView,
)
from services.credentials import Principal
from services.gateway.app import create_app
from services.gateway.auth import TokenBook
from services.gateway.case_bus import (
    Admission,
    Claim,
    Dependency,
    DependencyUnavailable,
    IdempotencyConflict,
    claim_of,
    submitted_history,
    submitted_view,
)
from tests.http import auth as auth
from tests.http import body as body
from tests.http import write_tokens as write_tokens

COUNTER, KIOSK = "mac-lima-norte", "mac-express-pias-napo"
TOKENS = {
    "counter-token": Principal(kind="channel", id=COUNTER),
    "kiosk-token": Principal(kind="channel", id=KIOSK),
    "auditor-token": Principal(kind="auditor", id="auditor"),
    "operator-token": Principal(kind="operator", id="operator"),
}


@dataclass
class FakeCaseBus:
    claims: dict[UUID, Claim] = field(default_factory=dict)
    published: list[SubmitCase] = field(default_factory=list)  # every publish the gateway made
    stream: dict[str, SubmitCase] = field(default_factory=dict)  # what JetStream keeps
    recorded: dict[UUID, CaseView] = field(default_factory=dict)  # what the ledger knows
    down: Dependency | None = None
    fail_with: Exception | None = None
    replays: list[tuple[UUID, datetime | None, int | None]] = field(default_factory=list)
    access_logs: dict[str, CitizenAccessLog] = field(default_factory=dict)  # by document number
    reads: list[ReadContext] = field(default_factory=list)  # what the ledger was asked to record
    damage: VerifyFinding | None = None  # what `verify` finds; None: the ledger is intact
    bus_overview: BusOverview = field(
        default_factory=lambda: BusOverview(entities=[], streams=[], dead_letters=0)
    )

    async def submit(self, command: SubmitCase) -> Admission:
        self._answer_or_fail()
        claim = claim_of(command)
        existing = self.claims.get(claim.case_id)
        outcome: Admission = "accepted"
        if existing is not None:
            if existing.fingerprint != claim.fingerprint:
                raise IdempotencyConflict(claim.case_id)
            outcome = "repeat"
        self.claims[claim.case_id] = existing or claim
        self.published.append(command)
        self.stream.setdefault(submit_msg_id(claim.case_id), command)
        return outcome

    async def case(self, case_id: UUID) -> CaseView | None:
        self._answer_or_fail()
        if case_id in self.recorded:
            return self.recorded[case_id]
        claim = self.claims.get(case_id)
        return submitted_view(claim) if claim else None

    async def history(
        self,
        case_id: UUID,
        *,
        as_of: datetime | None = None,
        version: int | None = None,
        read: ReadContext | None = None,
    ) -> CaseHistory | None:
        self._answer_or_fail()
        if read is not None:
            self.reads.append(read)
            if read.refused:
                return None
        self.replays.append((case_id, as_of, version))
        if case_id in self.recorded:
            view = self.recorded[case_id]
            entry = HistoryEntry(
                position=1,
                type=EventType.CASE_SUBMITTED,
                occurred_at=view.submitted_at,
                actor={"kind": "channel", "id": view.channel},
                data={"procedure": view.procedure},
            )
            return CaseHistory(case_id=case_id, channel=view.channel, events=[entry])
        claim = self.claims.get(case_id)
        return submitted_history(claim) if claim else None

    async def access_log(
        self, document_number: str, *, read: ReadContext | None = None
    ) -> CitizenAccessLog:
        self._answer_or_fail()
        if read is not None:
            self.reads.append(read)
        return self.access_logs.get(document_number, CitizenAccessLog(entries=[]))

    async def overview(self) -> BusOverview:
        self._answer_or_fail()
        return self.bus_overview

    async def sla(self, query: SlaQuery) -> SlaReport:
        """The ledger's report; this fake has no ledger, so every period is empty."""
        self._answer_or_fail()
        return SlaReport(start=query.start, end=query.end, entity=query.entity, lines=[])

    async def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        """This fake keeps no dead letters."""
        self._answer_or_fail()
        return DeadLetterList(letters=[])

    async def redrive(self, request: RedriveRequest) -> RedriveAnswer:
        self._answer_or_fail()
        return RedriveAnswer(
            results=[RedriveResult(id=i, outcome="missing") for i in request.letter_ids]
        )

    async def indicators(self, query: IndicatorsQuery) -> IndicatorsReport:
        """The ledger's indicators; this fake has no ledger, so every period is empty."""
        self._answer_or_fail()
        return IndicatorsReport(start=query.start, end=query.end, channel_days=[], procedures=[],
                                entities=[], rejection_reasons=[])  # fmt: skip

    async def ping(self) -> None:
        self._answer_or_fail()

    async def record_read(self, case_id: UUID, read: ReadContext) -> int:
        self._answer_or_fail()
        self.reads.append(read)
        return 1 if case_id in self.recorded or case_id in self.claims else 0

    async def verify(self) -> VerifyAnswer:
        """Intact, unless a test set `damage` (what `audit verify` would find first)."""
        self._answer_or_fail()
        if self.damage is None:
            return VerifyAnswer(events=len(self.recorded), cases=len(self.recorded), checkpoints=1)
        return VerifyAnswer(finding_count=1, findings=[self.damage])

    async def bundle(self, case_id: UUID, read: ReadContext) -> BundleAnswer:
        self._answer_or_fail()
        self.reads.append(read)
        if read.refused or case_id not in self.recorded:
            return BundleAnswer(found=False)
        return BundleAnswer(found=True, bundle={"format": "fake", "case_id": str(case_id)})

    def record_completed(self, case_id: UUID) -> CaseView:
        """The ledger processes the submitted command and both steps complete."""
        command = self.stream[submit_msg_id(case_id)]
        now = datetime.now(UTC)
        view = CaseView(
            case_id=case_id,
            procedure=command.procedure,
            channel=command.envelope.actor.id,
            status="completed",
            submitted_at=now,
            updated_at=now,
            version=5,
            steps=[
                StepView(
                    step_id=step,
                    entity=entity,
                    service=step,
                    status="completed",
                    attempts=1,
                    dispatched_at=now,
                    finished_at=now,
                )
                for step, entity in (("pago-tasa", "banco-nacion"), ("duplicado-dni", "reniec"))
            ],
        )
        self.recorded[case_id] = view
        return view

    def _answer_or_fail(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        if self.down is not None:
            raise DependencyUnavailable(self.down, f"{self.down} is down in this test")


@dataclass
class Gateway:
    bus: FakeCaseBus
    client: TestClient
    tokens_file: Path


def gateway(tmp_path: Path, *, max_body_bytes: int = 64 * 1024) -> Gateway:
    tokens_file = tmp_path / "gateway" / "tokens.json"
    write_tokens(tokens_file, TOKENS)
    bus = FakeCaseBus()
    app = create_app(bus, TokenBook(tokens_file), max_body_bytes=max_body_bytes)
    return Gateway(bus, TestClient(app, raise_server_exceptions=False), tokens_file)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """What any client may rely on in an error answer (RFC 9457)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert isinstance(problem["type"], str)
    assert problem["type"].strip()
    assert isinstance(problem["title"], str)
    assert problem["title"].strip()
    assert isinstance(problem["detail"], str)
    assert problem["detail"].strip()
    assert problem["instance"] == response.request.url.path
    return problem


FINAL = ("completed", "rejected")


class FakeStatusFeed:
    """A CaseStatusFeed whose views the test records, and which followers see at once."""

    def __init__(self) -> None:
        self.views: dict[UUID, CaseView] = {}
        self._followers: dict[UUID, list[asyncio.Queue[CaseView]]] = {}

    def record(self, view: CaseView) -> None:
        if view.case_id in self.views and self.views[view.case_id].version >= view.version:
            return  # as the read model: versions only grow
        self.views[view.case_id] = view
        for queue in self._followers.get(view.case_id, []):
            queue.put_nowait(view)

    async def current(self, case_id: UUID) -> CaseView | None:
        return self.views.get(case_id)

    async def updates(self, case_id: UUID) -> AsyncIterator[CaseView]:
        queue: asyncio.Queue[CaseView] = asyncio.Queue()
        self._followers.setdefault(case_id, []).append(queue)
        try:
            view = self.views.get(case_id)
            last = -1
            if view is not None:
                last = view.version
                yield view
                if view.status in FINAL:
                    return
            while True:
                view = await queue.get()
                if view.version <= last:
                    continue
                last = view.version
                yield view
                if view.status in FINAL:
                    return
        finally:
            self._followers[case_id].remove(queue)
