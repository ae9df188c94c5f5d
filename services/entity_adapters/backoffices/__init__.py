"""Fake back offices with seeded, deterministic data, standing in for the entities' real systems.

The demo citizens (see README): 40000001 succeeds everywhere; 40000002 is unknown to RENIEC.
"""
