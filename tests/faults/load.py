"""A steady load of mixed cases, as channels would send them: every reference procedure with
every demo citizen, over HTTP (retrying with the same Idempotency-Key, as a counter would) or
straight onto the command stream (as the gateway does).
"""

import asyncio
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import httpx
from nats.js import JetStreamContext

from schemas import subjects
from schemas.cases import case_id_for, submit_msg_id
from schemas.messages import SubmitCase
from services.bus.publishing import publish
from services.gateway.submission import command_for

CITIZENS = ("40000001", "40000002", "40000003", "40000004", "40000005", "40000006", "40000007")
TRANSFER = {"plate": "ABC-123", "seller_dni": "40000007", "price_pen": 25000}
INPUTS: dict[str, dict[str, Any]] = {
    "duplicado-dni": {"reason": "perdida"},
    "pasaporte-electronico": {},
    "transferencia-vehicular": TRANSFER,
    "inscripcion-ruc": {"activity_code": "4711"},
}
CHANNEL = "mac-lima-norte"


@dataclass(frozen=True)
class CaseOrder:
    """One case a channel will submit: its body and the key that names it."""

    procedure: str
    dni: str
    key: str

    def body(self) -> dict[str, Any]:
        return {
            "procedure": self.procedure,
            "citizen": {"document_type": "DNI", "document_number": self.dni},
            "inputs": INPUTS[self.procedure],
        }

    def case_id(self, channel: str = CHANNEL) -> UUID:
        return case_id_for(channel, self.key)


def mixed_orders(
    count: int,
    seed: int,
    procedures: tuple[str, ...] = tuple(INPUTS),
    citizens: tuple[str, ...] = CITIZENS,
) -> list[CaseOrder]:
    """`count` cases cycling through the procedures × demo citizens, in a shuffled order."""
    combinations = list(itertools.product(procedures, citizens))
    rng = random.Random(seed)
    orders = [
        CaseOrder(procedure, dni, key=f"fault-{seed}-{i}-{uuid4().hex[:8]}")
        for i, (procedure, dni) in zip(range(count), itertools.cycle(combinations), strict=False)
    ]
    rng.shuffle(orders)
    return orders


@dataclass
class LoadReport:
    """What the channels were told: the cases accepted, and how often they had to retry."""

    accepted: list[UUID] = field(default_factory=list)
    given_up: list[UUID] = field(default_factory=list)
    retries: int = 0
    answers: dict[int, int] = field(default_factory=dict)  # HTTP status → count, retries too

    def saw(self, status: int) -> None:
        self.answers[status] = self.answers.get(status, 0) + 1


async def submit_over_http(
    gateway_url: str,
    token: str,
    orders: list[CaseOrder],
    *,
    concurrency: int = 8,
    rate: float = 60.0,
    give_up_after: float = 180.0,
    on_accepted: Callable[[int], None] = lambda n: None,
) -> LoadReport:
    """Submit every order at about `rate` cases per second; each is retried with its own key
    until the gateway accepts it (202) or `give_up_after` seconds pass."""
    report = LoadReport()
    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    ) as client:

        async def one(order: CaseOrder) -> None:
            async with slots:
                accepted = await _post_until_accepted(client, order, report, give_up_after)
            (report.accepted if accepted else report.given_up).append(order.case_id())
            on_accepted(len(report.accepted))

        tasks = []
        for order in orders:
            tasks.append(asyncio.create_task(one(order)))
            await asyncio.sleep(1.0 / rate)
        await asyncio.gather(*tasks)
    return report


async def _post_until_accepted(
    client: httpx.AsyncClient, order: CaseOrder, report: LoadReport, give_up_after: float
) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    pause = 0.2
    while loop.time() < deadline:
        try:
            response = await client.post(
                "/v1/cases", json=order.body(), headers={"Idempotency-Key": order.key}
            )
        except httpx.HTTPError:
            status = 0  # refused, reset or timed out: the gateway may be down
        else:
            status = response.status_code
            if status == 202:
                assert response.json()["case_id"] == str(order.case_id()), response.text
                report.saw(status)
                return True
            if status not in (429, 502, 503, 504):
                raise AssertionError(f"unexpected {status}: {response.text}")
        report.saw(status)
        report.retries += 1
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)
    return False


def submit_command(order: CaseOrder, channel: str = CHANNEL) -> SubmitCase:
    """The command the gateway would publish for this order."""
    return command_for(order.body(), channel, order.key)


async def submit_over_nats(
    js: JetStreamContext,
    orders: list[CaseOrder],
    *,
    rate: float = 60.0,
    on_accepted: Callable[[int], None] = lambda n: None,
) -> LoadReport:
    """Publish each order's SubmitCase as the gateway does; accepted = the stream acknowledged.

    A publish that fails (the cluster is electing leaders) is retried with the same
    `Nats-Msg-Id` until it is acknowledged, as the gateway's client would retry.
    """
    report = LoadReport()
    for order in orders:
        command = submit_command(order)
        while True:
            try:
                await publish(
                    js,
                    subjects.submit_case(CHANNEL, command.envelope.case_id),
                    command,
                    msg_id=submit_msg_id(command.envelope.case_id),
                    ack_timeout=2.0,
                    give_up_after=5.0,
                )
                break
            except Exception:
                report.retries += 1
                await asyncio.sleep(0.5)
        report.accepted.append(command.envelope.case_id)
        on_accepted(len(report.accepted))
        await asyncio.sleep(1.0 / rate)
    return report
