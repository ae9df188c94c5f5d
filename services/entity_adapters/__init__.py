"""Entity adapters: each participating entity's back office plugged into the bus.

`sdk` does the broker work (durable consumption, acks, retries, dead letters, tracing); each
entity module holds only plain typed handlers a back-office developer can read in a minute.
"""
