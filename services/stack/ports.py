"""Choosing a TCP port on this machine without assuming that any port is free.

A developer's machine may already serve something on 8000 (or run another stack): a busy
port is never taken over, a free one is picked instead and the caller says so.
"""

import socket
from dataclasses import dataclass


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Servers (uvicorn included) bind with SO_REUSEADDR: probe the same way, so a port
        # that only has connections in TIME_WAIT counts as free, as it is for them.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    """A port the kernel considers free right now (a race with other programs remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class PortChoice:
    port: int
    requested: int

    @property
    def moved(self) -> bool:
        """True when the requested port was busy and another one was picked."""
        return self.requested != 0 and self.port != self.requested


def choose_port(host: str, requested: int) -> PortChoice:
    """`requested`, if it is free; any free port when it is 0 or busy."""
    if requested != 0 and port_is_free(host, requested):
        return PortChoice(requested, requested)
    return PortChoice(free_port(host), requested)
