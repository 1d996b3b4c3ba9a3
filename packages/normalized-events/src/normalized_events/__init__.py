"""Typed event records, serialized as one JSON object per line (JSONL)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

__all__ = ["Event", "__version__", "read_events"]

__version__ = version("normalized-events")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened: a ``kind`` (e.g. ``"command.finished"``) and a JSON payload."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialize to a single JSON line (keys sorted, no trailing newline)."""
        return json.dumps({"kind": self.kind, "payload": self.payload}, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Event:
        """Parse a line written by :meth:`to_json`; raise ``ValueError`` on a malformed one."""
        data = json.loads(line)
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            raise ValueError(f"not an event record: {line!r}")
        payload = data.get("payload", {})
        if not isinstance(payload, dict):
            raise ValueError(f"event payload must be an object: {line!r}")
        return cls(kind=data["kind"], payload=payload)


def read_events(lines: Iterable[str]) -> Iterator[Event]:
    """Yield the events of a JSONL stream, skipping blank lines."""
    for line in lines:
        if line.strip():
            yield Event.from_json(line)
