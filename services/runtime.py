"""Interpreter settings for the long-running service processes (ledger, adapters, gateway)."""

import gc

# Young-generation threshold: CPython's default (700 allocations) collects many times per case
# on the hot paths and promotes objects that live through one message into older generations,
# where full collections then walk them (and the ledger's cache of open cases) again and again.
YOUNG_THRESHOLD = 20_000


def tune_garbage_collection() -> None:
    """Call once the process has imported and built what it keeps for its whole life.

    Freezing moves every object alive now (modules, classes, the catalog) out of the
    collector's sight, so no collection walks them again; the higher threshold makes young
    collections rarer. Reference counting still frees almost everything at once; the collector
    is only for cycles.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
