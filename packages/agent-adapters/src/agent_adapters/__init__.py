"""Agents that exercise an environment; ``smoke`` checks that modules import."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib.metadata import version

from normalized_events import Event
from runner_core import run

__all__ = ["__version__", "smoke", "verdict"]

__version__ = version("agent-adapters")


def smoke(
    modules: Iterable[str], *, python: str = sys.executable, timeout: float = 60.0
) -> list[Event]:
    """Import each module in a fresh ``python`` process; one ``smoke.*`` event per module.

    Each import runs in its own process so one broken module cannot hide another.
    """
    events: list[Event] = []
    for module in modules:
        result = run([python, "-c", f"import {module}"], timeout=timeout)
        ok = result.kind == "command.finished" and result.payload.get("returncode") == 0
        detail = result.payload.get("stderr") or result.payload.get("error") or ""
        events.append(
            Event(
                "smoke.passed" if ok else "smoke.failed",
                {"module": module, "python": python, "detail": detail.strip()[-2000:]},
            )
        )
    return events


def verdict(events: Iterable[Event]) -> bool:
    """True when there was at least one smoke event and none failed."""
    kinds = [event.kind for event in events if event.kind.startswith("smoke.")]
    return bool(kinds) and all(kind == "smoke.passed" for kind in kinds)
