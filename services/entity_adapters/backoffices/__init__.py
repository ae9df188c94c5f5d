"""Fake back offices with seeded, deterministic data, standing in for the entities' real systems.

They key their behaviour on the demo citizens listed in `demo.py` (and in the README).
"""
