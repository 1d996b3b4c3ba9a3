"""Typed records of one usertest run, read and written as JSON lines.

Every event is a frozen dataclass with a ``kind`` (its JSON tag). One event is one JSON object
on one line (:func:`to_json_line`); a stream is read back with :func:`read_events`, and the
round trip is exact: ``from_json_line(to_json_line(e)) == e`` for every event ``e``.

The kinds, in the order a run produces them:

* ``workspace.created`` (:class:`WorkspaceCreated`): the synthetic workspace of the run.
* ``install.started`` / ``install.finished`` (:class:`InstallStarted`, :class:`InstallFinished`):
  installing the target, with the versions that were resolved (``{distribution: version}``).
* ``command.output`` (:class:`CommandOutput`): one command that ran, with the tails of its output.
* ``attempt.retried`` (:class:`AttemptRetried`): an attempt failed and another one follows.
* ``verdict`` (:class:`Verdict`): the outcome, and the step it was decided at.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar, TextIO

__all__ = [
    "EVENT_TYPES",
    "STEPS",
    "AttemptRetried",
    "CommandOutput",
    "Event",
    "EventError",
    "EventLog",
    "InstallFinished",
    "InstallStarted",
    "Verdict",
    "WorkspaceCreated",
    "__version__",
    "from_json_line",
    "read_events",
    "tail",
    "to_json_line",
    "write_events",
]

__version__ = version("normalized-events")

#: The steps a verdict can be decided at, in the order a run goes through them.
STEPS = ("resolve", "install", "import", "version", "agent")

#: How much of a command's stdout/stderr an event keeps (the end is what explains a failure).
TAIL_CHARS = 4000


class EventError(ValueError):
    """A line that is not a valid event (bad JSON, unknown kind, missing or mistyped field)."""


def tail(text: str, limit: int = TAIL_CHARS) -> str:
    """The last *limit* characters of *text* (all of it when it is shorter)."""
    return text if len(text) <= limit else text[-limit:]


@dataclass(frozen=True, slots=True)
class WorkspaceCreated:
    """The synthetic workspace a run happens in (a fresh folder with a README)."""

    kind: ClassVar[str] = "workspace.created"
    path: str
    persona_id: str
    mission_id: str


@dataclass(frozen=True, slots=True)
class InstallStarted:
    """Installing *requirements* with *installer* (``pip`` or ``pdm``) from *index_url*.

    *index_url* is shown to people: callers pass it with any credentials redacted.
    """

    kind: ClassVar[str] = "install.started"
    installer: str
    requirements: tuple[str, ...]
    index_url: str = ""
    extra_index_urls: tuple[str, ...] = ()
    venv: str = ""


@dataclass(frozen=True, slots=True)
class InstallFinished:
    """The install ended; *resolved* maps each requested distribution to its installed version."""

    kind: ClassVar[str] = "install.finished"
    installer: str
    ok: bool
    resolved: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CommandOutput:
    """One command that ran (or could not start: *exit_code* is then ``-1``)."""

    kind: ClassVar[str] = "command.output"
    argv: tuple[str, ...]
    exit_code: int
    stdout_tail: str = ""
    stderr_tail: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class AttemptRetried:
    """Attempt number *attempt* failed for *reason*; the next one starts after *wait_seconds*."""

    kind: ClassVar[str] = "attempt.retried"
    attempt: int
    wait_seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a run: *passed*, and the *step* (one of :data:`STEPS`) that decided it.

    A failed verdict names the step that failed; a passed one names the last step that ran.
    """

    kind: ClassVar[str] = "verdict"
    passed: bool
    step: str
    message: str = ""

    def __post_init__(self) -> None:
        if self.step not in STEPS:
            raise EventError(f"verdict step must be one of {', '.join(STEPS)}; got {self.step!r}")


Event = WorkspaceCreated | InstallStarted | InstallFinished | CommandOutput | AttemptRetried | Verdict

#: Every event class by its ``kind``.
EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (WorkspaceCreated, InstallStarted, InstallFinished, CommandOutput, AttemptRetried, Verdict)
}


def _to_json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def to_json_line(event: Event) -> str:
    """One JSON object, ``kind`` first, then the fields in declaration order; no newline."""
    if type(event) not in EVENT_TYPES.values():
        raise EventError(f"not an event: {event!r}")
    data: dict[str, Any] = {"kind": event.kind}
    for f in fields(event):
        data[f.name] = _to_json_value(getattr(event, f.name))
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _converter(annotation: Any) -> Callable[[Any], Any]:
    """A function checking (and, for tuples, converting) a JSON value for *annotation*."""
    origin = typing.get_origin(annotation)
    if annotation is bool:
        def check_bool(v: Any) -> bool:
            if not isinstance(v, bool):
                raise TypeError("expected true or false")
            return v
        return check_bool
    if annotation is int:
        def check_int(v: Any) -> int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError("expected an integer")
            return v
        return check_int
    if annotation is float:
        def check_float(v: Any) -> float:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise TypeError("expected a number")
            return float(v)
        return check_float
    if annotation is str:
        def check_str(v: Any) -> str:
            if not isinstance(v, str):
                raise TypeError("expected a string")
            return v
        return check_str
    if origin is tuple:
        item = _converter(typing.get_args(annotation)[0])
        def check_tuple(v: Any) -> tuple[Any, ...]:
            if not isinstance(v, list):
                raise TypeError("expected an array")
            return tuple(item(x) for x in v)
        return check_tuple
    if origin is dict:
        key_type, value_type = typing.get_args(annotation)
        key, value = _converter(key_type), _converter(value_type)
        def check_dict(v: Any) -> dict[Any, Any]:
            if not isinstance(v, dict):
                raise TypeError("expected an object")
            return {key(k): value(x) for k, x in v.items()}
        return check_dict
    raise TypeError(f"unsupported field type {annotation!r}")  # pragma: no cover


_SCHEMAS: dict[str, dict[str, Callable[[Any], Any]]] = {
    kind: {
        f.name: _converter(typing.get_type_hints(cls)[f.name])
        for f in fields(cls)
    }
    for kind, cls in EVENT_TYPES.items()
}


def from_json_line(line: str) -> Event:
    """Parse one line written by :func:`to_json_line`; raise :class:`EventError` otherwise."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"not JSON ({exc.msg} at column {exc.colno}): {line[:200]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise EventError(f"not an event record (no \"kind\"): {line[:200]!r}")
    kind = data.pop("kind")
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise EventError(f"unknown event kind {kind!r} (known kinds: {known})")
    schema = _SCHEMAS[kind]
    unknown = sorted(set(data) - set(schema))
    if unknown:
        raise EventError(f"{kind}: unknown field(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, convert in schema.items():
        if name not in data:
            continue  # a missing field takes its default; one without a default fails below
        try:
            values[name] = convert(data[name])
        except TypeError as exc:
            raise EventError(f"{kind}.{name}: {exc}, got {data[name]!r}") from None
    try:
        return cls(**values)
    except TypeError as exc:
        raise EventError(f"{kind}: {exc}") from None


def read_events(lines: Iterable[str]) -> list[Event]:
    """Every event of a JSON-lines stream (blank lines skipped); errors name the line number."""
    events: list[Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(from_json_line(line))
        except EventError as exc:
            raise EventError(f"line {number}: {exc}") from None
    return events


def write_events(events: Iterable[Event], stream: TextIO) -> None:
    """Write *events* to *stream*, one line each."""
    for event in events:
        stream.write(to_json_line(event) + "\n")


class EventLog:
    """Collects the events of a run; optionally appends each one to a JSON-lines file at once.

    Call it with an event (it is the ``emit`` callback the other packages take) and read
    :attr:`events` afterwards.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.events: list[Event] = []
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.write_text("", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as stream:
                stream.write(to_json_line(event) + "\n")

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def of(self, cls: type[Event]) -> list[Event]:
        """The events of one class, in order."""
        return [e for e in self.events if isinstance(e, cls)]

    def verdict(self) -> Verdict | None:
        """The last verdict, if any."""
        verdicts = [e for e in self.events if isinstance(e, Verdict)]
        return verdicts[-1] if verdicts else None
