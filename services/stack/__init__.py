"""Running the whole stack on one machine: an embedded nats-server and supervised children."""
