"""Each registered entity's part of the bus: its work and result channels, one message per
service typed by the service's contract, and the operations of its adapter and of the ledger.
"""

from typing import Any

from schemas import subjects
from schemas.entities import ServiceContract
from schemas.messages import StepRequest, StepResult
from services.entity_adapters.package import EntityPackage

from .adapters import adapter_subscription
from .builder import AsyncApiWriter, Message
from .headers import HEX_CASE_ID, message_headers
from .roles import ADAPTER, LEDGER_ROLE, entity_tag


def _typed(
    base: Any, field: str, schema: Any, contract: ServiceContract[Any, Any]
) -> dict[str, Any]:
    """The envelope `base` with `field` holding one service's schema, for that service only."""
    return {
        "allOf": [
            base,
            {
                "type": "object",
                "properties": {
                    "entity": {"const": contract.entity},
                    "service": {"const": contract.service},
                    field: schema,
                },
            },
        ]
    }


def entity_channels(w: AsyncApiWriter, package: EntityPackage) -> None:
    entity, role = package.entity, ADAPTER
    codes = [c.service for c in package.contracts]
    services = {"service": {"description": "The service's code.", "enum": codes}}
    work_messages, result_messages = [], []
    for c in package.contracts:
        work_messages.append(
            Message(
                name=c.service,
                key=f"work.{entity}.{c.service}",
                title=f"{c.title}: request",
                summary=f"The ledger asks {package.name} for {c.title}.",
                payload=_typed(w.schema(StepRequest), "payload", w.schema(c.request), c),
                headers=message_headers(),
            )
        )
        data = {"anyOf": [w.schema(c.result), {"type": "object", "maxProperties": 0}]}
        result_messages.append(
            Message(
                name=c.service,
                key=f"result.{entity}.{c.service}",
                title=f"{c.title}: result",
                summary="`data` holds the service's result when `outcome` is `completed`, "
                "else it is empty.",
                payload=_typed(w.schema(StepResult), "data", data, c),
                headers=message_headers(),
            )
        )
    operation_id, generated, generated_channel = adapter_subscription(package)
    work = w.channel(
        f"work.{entity}",
        subjects.work(entity, "{service}"),
        f"{package.name}'s step requests, in the work stream {subjects.WORK_STREAM}; the "
        f"adapter takes them through its durable consumer {subjects.adapter_consumer(entity)} "
        f"(filter {subjects.entity_work(entity)}).",
        tuple(work_messages),
        parameters=services,
        bindings=generated_channel.get("bindings"),
    )
    results = w.channel(
        f"result.{entity}",
        subjects.result(entity, "{service}", "{case}"),
        f"{package.name}'s answers, in the results stream {subjects.RESULTS_STREAM}.",
        tuple(result_messages),
        parameters={**services, "case": HEX_CASE_ID},
    )
    extra = (entity_tag(entity, package.name),)
    w.operation(
        f"ledger.dispatch.{entity}", "send", work, LEDGER_ROLE, "Dispatch a step.", extra_tags=extra
    )
    w.operation(
        operation_id,
        "receive",
        work,
        role,
        "Take a step request (described by FastStream from the adapter code).",
        extra_tags=extra,
        base={k: v for k, v in generated.items() if k not in ("channel", "messages")},
    )
    w.operation(
        f"adapter-{entity}.answer",
        "send",
        results,
        role,
        "Answer a step: completed, rejected, failed, or accepted (a deferred answer, whose final "
        "one follows later, from the adapter or any process holding the entity's credentials).",
        extra_tags=extra,
    )
    w.operation(
        f"ledger.redrive-result.{entity}",
        "send",
        results,
        LEDGER_ROLE,
        "Republish a dead-lettered answer, as it was, when an operator redrives it.",
        extra_tags=extra,
    )
    w.operation(
        f"ledger.take-results.{entity}",
        "receive",
        results,
        LEDGER_ROLE,
        "Record an answer.",
        extra_tags=extra,
    )
