"""Console refusals as problem documents, for a client that asks for JSON instead of a page."""

from ..problems import Forbidden


class NotDelegated(Forbidden):
    slug, title = "not-delegated", "Procedure not delegated to this clerk"

    def __init__(self, procedure: str, channel: str) -> None:
        super().__init__(
            f"This clerk has no delegation to take {procedure!r} at channel {channel!r}."
        )


class WrongAccount(Forbidden):
    slug, title = "wrong-account", "Not a page for this account"

    def __init__(self, needs: str) -> None:
        super().__init__(f"This page is for {needs} accounts only.")
