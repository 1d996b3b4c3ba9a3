"""Run a command and describe the run as a :class:`normalized_events.Event`."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from normalized_events import Event

__all__ = ["__version__", "run", "succeeded"]

__version__ = version("runner-core")


def run(argv: Sequence[str], *, cwd: Path | None = None, timeout: float | None = None) -> Event:
    """Run ``argv`` (no shell) and return a ``command.finished`` event.

    A command that cannot start or times out is still an event (``command.failed``), never an
    exception, so a caller can log every attempt the same way.
    """
    started = time.monotonic()
    try:
        done = subprocess.run(
            list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Event(
            "command.failed",
            {"argv": list(argv), "error": f"{type(exc).__name__}: {exc}"},
        )
    return Event(
        "command.finished",
        {
            "argv": list(argv),
            "returncode": done.returncode,
            "duration_s": round(time.monotonic() - started, 3),
            "stdout": done.stdout,
            "stderr": done.stderr,
        },
    )


def succeeded(event: Event) -> bool:
    """True for a ``command.finished`` event whose return code is 0."""
    return event.kind == "command.finished" and event.payload.get("returncode") == 0
