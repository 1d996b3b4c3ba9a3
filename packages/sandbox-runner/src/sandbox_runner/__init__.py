"""A local sandbox: free loopback ports and commands run in a throwaway directory."""

from __future__ import annotations

import dataclasses
import socket
import tempfile
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from runner_core import run

if TYPE_CHECKING:  # the Event type comes with runner-core; no direct dependency needed
    from normalized_events import Event

__all__ = ["__version__", "free_port", "run_in_sandbox"]

__version__ = version("sandbox-runner")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def run_in_sandbox(argv: Sequence[str], *, timeout: float | None = None) -> Event:
    """Run ``argv`` in a fresh temporary directory, removed afterwards; the event records it."""
    with tempfile.TemporaryDirectory(prefix="sandbox-") as tmp:
        event = run(argv, cwd=Path(tmp), timeout=timeout)
        return dataclasses.replace(event, payload={**event.payload, "sandbox": tmp})
