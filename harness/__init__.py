"""What drives a Ventanilla stack from outside, shared by the tests and the benchmarks.

Both tests/ and bench/ start stacks, read their processes from /proc and build the commands a
channel sends; bench/ must not import tests/, so that code lives here, a top-level package beside
them. It is no part of the services: `ventanilla up` starts its children itself (services/stack)
and never looks at them from outside, so nothing here is shipped (setuptools packages only
schemas and services) or imported by services/.
"""
