"""Render normalized events as text (one line each) or as a Markdown table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib.metadata import version

from normalized_events import Event

__all__ = ["__version__", "render_markdown", "render_text"]

__version__ = version("reporter")


def _summary(event: Event) -> str:
    """A compact, single-line rendering of the payload (keys sorted)."""
    return json.dumps(event.payload, sort_keys=True, separators=(", ", "="))[1:-1]


def render_text(events: Iterable[Event]) -> str:
    """One ``kind: key=value, ...`` line per event, newline-terminated (empty for no events)."""
    return "".join(f"{event.kind}: {_summary(event)}\n" for event in events)


def render_markdown(events: Iterable[Event]) -> str:
    """A two-column Markdown table (``kind`` / ``details``); ``|`` in values is escaped."""
    rows = ["| kind | details |", "| --- | --- |"]
    for event in events:
        details = _summary(event).replace("|", "\\|")
        rows.append(f"| `{event.kind}` | {details} |")
    return "\n".join(rows) + "\n"
