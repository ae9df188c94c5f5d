"""The gateway's routes, one module per resource, each a router factory given its collaborators."""
