"""MAC Express sites that keep working offline: the site's bundle, its stack, the hub's relay.

A site runs a nats-server as a leaf node of the hub with its own JetStream domain, and a local
gateway for its channel. Cases taken while the link is down wait in the site's outgoing stream;
the hub sources that stream and its relay hands each case to the ledger, whose idempotency on
the case id is what makes a late or repeated forward harmless. Statuses travel back through a
per-site stream that the site copies. Nothing crosses the link as request/reply.
"""
