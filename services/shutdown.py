"""How a service process learns it should stop: SIGTERM (systemd, `ventanilla up`) or Ctrl-C."""

import asyncio
import signal
import threading
from types import FrameType


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT; call it from inside the running loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def stop_flag_on_signals() -> threading.Event:
    """The same for a process driven by a plain loop (a stack's supervisor), not asyncio: a flag
    set by SIGTERM or SIGINT, which the loop checks."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stopping
