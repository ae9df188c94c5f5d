"""Thin edges to NATS JetStream shared by every process: connection, topology, publishing,
dead letters, message decoding and trace context."""
