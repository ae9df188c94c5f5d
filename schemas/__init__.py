"""The contract of the bus: frozen message models, subject names and the procedure catalog.

Nothing here performs I/O or imports from `services`; every process agrees on these
definitions and nothing else.
"""
