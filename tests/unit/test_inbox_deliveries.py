"""The inbox reads a consumer that never redelivers: a delivery lost in flight must stop it
before the position passes the lost message."""

from types import SimpleNamespace
from typing import Any

import pytest

from services.case_ledger.inbox import DeliveryGap, check_deliveries


def delivered(*numbers: int) -> list[Any]:
    return [
        SimpleNamespace(metadata=SimpleNamespace(sequence=SimpleNamespace(consumer=n, stream=n)))
        for n in numbers
    ]


def test_consecutive_deliveries_go_on_from_the_last_one() -> None:
    assert check_deliveries(delivered(1, 2, 3), 0) == 3
    assert check_deliveries(delivered(4, 5), 3) == 5


def test_a_delivery_missing_inside_a_batch_stops_the_reading() -> None:
    with pytest.raises(DeliveryGap, match="delivery 3 never arrived"):
        check_deliveries(delivered(1, 2, 4), 0)


def test_a_delivery_missing_between_batches_stops_the_reading() -> None:
    with pytest.raises(DeliveryGap, match="delivery 6 never arrived"):
        check_deliveries(delivered(7, 8), 5)
