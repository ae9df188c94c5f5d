"""Our own exceptions; each edge translates them (HTTP problem documents, dead-letter reasons)."""


class VentanillaError(Exception):
    """Base of every error this project raises on purpose."""


class Unprocessable(VentanillaError):
    """A message that no retry can make acceptable: it goes to the dead-letter stream."""


class StepRefused(VentanillaError):
    """A back office refuses a request for a business reason: a final answer, not a fault."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BackOfficeUnavailable(VentanillaError):
    """A back office could not answer now (timeout, outage): the request is retried."""


class CaseNotFound(VentanillaError):
    """No case with that id is visible to the caller."""


class BusUnavailable(VentanillaError):
    """NATS or the ledger did not answer in time."""
