"""Free loopback ports, so parallel stacks never collide."""
from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on: where a 'down' backend's traffic goes (connection refused)."""
    return free_port()
