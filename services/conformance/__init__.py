"""The conformance kit: checks a running entity adapter from the outside, through the bus."""
