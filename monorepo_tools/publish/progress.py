"""Progress of a snapshot: a live display on a terminal, plain lines in CI and logs.

Both take the same three calls (``phase``, ``event``, ``close``), so the job never knows which
one it talks to. Every line passes through :func:`~monorepo_tools.publish.redact.redact`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable
from typing import TextIO

from .redact import redact

__all__ = ["PlainProgress", "Progress", "RichProgress", "make_progress"]

_DONE = {
    "build done",
    "built",
    "failed",
    "published",
    "already published",
    "blocked",
    "install check passed",
    "install check failed",
}


class Progress:
    """Plain-line progress (the base: also what CI logs get)."""

    def __init__(self, stream: TextIO | None = None, secrets: Iterable[str] = ()) -> None:
        self.stream = stream or sys.stderr
        self.secrets = [s for s in secrets if s]
        self.started = time.monotonic()
        self._lock = threading.Lock()  # builds report from worker threads

    def _line(self, text: str) -> None:
        with self._lock:
            print(redact(text, self.secrets), file=self.stream, flush=True)

    def phase(self, name: str, total: int) -> None:
        self._line(f"[{time.monotonic() - self.started:6.1f}s] == {name}: {total} package(s)")

    def event(self, package: str, event: str, detail: str = "") -> None:
        suffix = f": {detail}" if detail else ""
        self._line(f"[{time.monotonic() - self.started:6.1f}s] {package}: {event}{suffix}")

    def close(self) -> None:
        pass


PlainProgress = Progress


class RichProgress(Progress):
    """A progress bar per phase (rich comes with twine), with finished packages printed above."""

    def __init__(self, stream: TextIO | None = None, secrets: Iterable[str] = ()) -> None:
        super().__init__(stream, secrets)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import (
            Progress as Bar,
        )
        from rich.text import Text

        self._text = Text
        self.console = Console(file=self.stream)
        self.bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.task: object | None = None
        self.bar.start()

    def phase(self, name: str, total: int) -> None:
        with self._lock:
            if self.task is not None:
                self.bar.remove_task(self.task)  # type: ignore[arg-type]
            self.task = self.bar.add_task(name, total=total)

    def event(self, package: str, event: str, detail: str = "") -> None:
        with self._lock:
            style = {
                "failed": "red",
                "blocked": "yellow",
                "published": "green",
                "already published": "cyan",
                "built": "green",
            }.get(event, "")
            if event in _DONE:
                text = redact(
                    f"{package}: {event}" + (f": {detail}" if detail else ""), self.secrets
                )
                # Text, not markup: messages hold brackets ("[project]") that rich would eat.
                self.console.print(self._text(text, style=style), highlight=False)
                if self.task is not None:
                    self.bar.advance(self.task)  # type: ignore[arg-type]

    def close(self) -> None:
        self.bar.stop()


def make_progress(interactive: bool, secrets: Iterable[str] = ()) -> Progress:
    return RichProgress(secrets=secrets) if interactive else Progress(secrets=secrets)
