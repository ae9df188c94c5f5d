"""The ledger's audit trail: hash chains, signed checkpoints, evidence bundles and replay.

`eventhash`, `merkle` and `bundle_check` use only the standard library and `cryptography`, so an
auditor can verify exported evidence without the ledger, its database or the bus.
"""
