"""The case ledger: the only writer of case histories, and the process that moves cases on."""
