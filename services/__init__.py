"""Ventanilla's processes: the gateway, the case ledger, the entity adapters and the CLI."""
