"""The entity adapters' part of the contract, as FastStream describes it from the adapter code.

Each registered entity package's adapter is built on a broker that is never connected, exactly
as `ventanilla serve adapter` builds it (services/entity_adapters/runner.py), and FastStream's
own AsyncAPI 3.0 generator describes its subscription: the channel (the durable consumer's
filter, `ventanilla.work.<entity>.>`) and the `receive` operation.

FastStream cannot describe the rest, so the document fills it in from the contracts: the
runner reads each request as raw bytes (no decoding or dependency injection per message, see
docs/benchmarks.md), so FastStream sees no payload type and says `EmptyPayload`; and results
and dead letters go out through nats-py's JetStream publish, so it sees no publisher at all. The
generated operation is kept (its name, action and bindings); its channel becomes the entity's
work channel with one message per service, typed by the service's contract.
"""

from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI

from schemas import subjects
from services.entity_adapters.package import EntityPackage
from services.entity_adapters.runner import AdapterRunner


class AdapterSpecMismatch(RuntimeError):
    """FastStream describes an adapter other than the contract says: the document would lie."""


def adapter_subscription(package: EntityPackage) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The adapter's subscription as FastStream generates it: (operation id, operation, channel).

    Raises `AdapterSpecMismatch` unless it is exactly one `receive` on the entity's work subjects.
    """
    broker = NatsBroker(apply_types=False, logger=None)  # never connected: only described
    AdapterRunner(package.adapter, None, broker)
    spec = AsyncAPI(broker, title=package.entity).to_specification().to_jsonable()
    operations: dict[str, Any] = spec.get("operations", {})
    channels: dict[str, Any] = spec.get("channels", {})
    if len(operations) != 1 or len(channels) != 1:
        raise AdapterSpecMismatch(
            f"adapter {package.entity!r}: FastStream describes {sorted(operations)} on "
            f"{sorted(channels)}, expected one subscription"
        )
    (operation_id, operation), (channel,) = next(iter(operations.items())), channels.values()
    expected = subjects.entity_work(package.entity)
    if operation.get("action") != "receive" or channel.get("address") != expected:
        raise AdapterSpecMismatch(
            f"adapter {package.entity!r}: FastStream describes {operation.get('action')!r} on "
            f"{channel.get('address')!r}, expected 'receive' on {expected!r}"
        )
    return operation_id, operation, channel
