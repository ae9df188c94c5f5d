"""Every conformance check of an entity's adapter, run together against the running adapter."""

import asyncio
from typing import Any

from schemas import subjects
from schemas.entities.base import ServiceContract
from services.bus.heartbeats import HEARTBEAT_EVERY, MISSED_BEFORE_DOWN

from .checks import Check, Verdict, duplicate_operation, valid_request
from .malformed import malformed_json, missing_field, unknown_service, wrong_schema_version
from .probe import AdapterProbe
from .samples import NoExample, examples_of


def checks_for(contracts: tuple[ServiceContract[Any, Any], ...]) -> tuple[list[Check], list[str]]:
    """Every check for an entity's contracts, and the faults of contracts that cannot be checked."""
    checks: list[Check] = []
    faults: list[str] = []
    for contract in contracts:
        try:
            examples = examples_of(contract)
            incomplete = missing_field(contract, examples[0])
        except NoExample as exc:
            faults.append(f"{contract.service}: {exc}")
            continue
        checks += [valid_request(contract, n, e) for n, e in enumerate(examples, 1)]
        checks += [duplicate_operation(contract, examples[0]), incomplete]
    if contracts and not faults:
        first = contracts[0]
        example = examples_of(first)[0]
        checks += [
            malformed_json(first.entity, first.service),
            wrong_schema_version(first, example),
            unknown_service(first, example),
        ]
    return checks, faults


async def run_checks(probe: AdapterProbe, checks: list[Check], wait: float) -> list[Verdict]:
    async with probe.listening():
        alive_within = HEARTBEAT_EVERY * MISSED_BEFORE_DOWN
        if not await probe.adapter_alive(alive_within):
            return [
                Verdict(
                    "adapter running",
                    f"a heartbeat on {subjects.heartbeat(probe.entity)}",
                    f"none within {alive_within:.0f}s: start the adapter (`ventanilla up`)",
                    False,
                )
            ]
        return list(await asyncio.gather(*(check(probe, wait) for check in checks)))
