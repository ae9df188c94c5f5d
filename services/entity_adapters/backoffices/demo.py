"""The seeded demo citizens the fake back offices know (documented in the README)."""

SUCCEEDS = "40000001"
UNKNOWN_TO_RENIEC = "40000002"

RENIEC_REGISTERED = frozenset({SUCCEEDS})
