"""A back office that loses its answer now and then, as real ones do (demo citizen 40000006).

The effect is done on the first call and its answer lost; the next call fails before doing
anything; the third answers. The only way to get this right is an idempotency key per step.
"""

from collections import Counter

from services.errors import BackOfficeUnavailable

from . import demo


class TransientFaults:
    def __init__(self) -> None:
        self._calls: Counter[str] = Counter()

    def after_effect(self, document_number: str, idempotency_key: str) -> None:
        """Raise for the first answers of a flaky citizen's request; otherwise do nothing."""
        if document_number != demo.FLAKY:
            return
        self._calls[idempotency_key] += 1
        if self._calls[idempotency_key] <= demo.TRANSIENT_FAILURES:
            raise BackOfficeUnavailable("back office timed out")
