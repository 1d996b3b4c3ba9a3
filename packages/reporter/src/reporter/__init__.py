"""reporter: a usertest run's events as a terminal summary, Markdown, or JSON.

* :func:`summarize` - the facts of a run (outcome, step, target, resolved versions, retries).
* :func:`render_terminal` - a few plain lines for a console.
* :func:`render_markdown` - a job summary / PR comment, with the tail of the failing command.
* :func:`render_json` - one JSON document: the summary and every event (machine-readable).
* :func:`render_event` - one line for one event (progress output).

Events are :mod:`normalized_events` records; anything they hold was redacted when recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from typing import Any

from normalized_events import (
    AttemptRetried,
    CommandOutput,
    Event,
    InstallFinished,
    InstallStarted,
    Verdict,
    WorkspaceCreated,
    to_json_line,
)

__all__ = [
    "Summary",
    "__version__",
    "render_event",
    "render_json",
    "render_markdown",
    "render_terminal",
    "summarize",
]

__version__ = version("reporter")

JSON_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Summary:
    """What a run came to. ``status`` is ``passed``, ``failed`` or ``incomplete`` (no verdict)."""

    status: str
    step: str | None
    message: str
    persona_id: str | None = None
    mission_id: str | None = None
    workspace: str | None = None
    installer: str | None = None
    requirements: tuple[str, ...] = ()
    index_url: str | None = None
    resolved: dict[str, str] = field(default_factory=dict)
    commands: int = 0
    retries: int = 0
    failed_command: CommandOutput | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def summarize(events: Iterable[Event]) -> Summary:
    """Fold the events of one run into a :class:`Summary` (the last verdict wins)."""
    events = list(events)
    verdict: Verdict | None = None
    created: WorkspaceCreated | None = None
    started: InstallStarted | None = None
    finished: InstallFinished | None = None
    commands = [e for e in events if isinstance(e, CommandOutput)]
    for event in events:
        if isinstance(event, Verdict):
            verdict = event
        elif isinstance(event, WorkspaceCreated):
            created = event
        elif isinstance(event, InstallStarted):
            started = event
        elif isinstance(event, InstallFinished):
            finished = event
    failed = [c for c in commands if c.exit_code != 0]
    status = "incomplete" if verdict is None else ("passed" if verdict.passed else "failed")
    return Summary(
        status=status,
        step=verdict.step if verdict else None,
        message=verdict.message if verdict else "the run ended without a verdict",
        persona_id=created.persona_id if created else None,
        mission_id=created.mission_id if created else None,
        workspace=created.path if created else None,
        installer=started.installer if started else None,
        requirements=started.requirements if started else (),
        index_url=started.index_url if started else None,
        resolved=dict(finished.resolved) if finished else {},
        commands=len(commands),
        retries=sum(1 for e in events if isinstance(e, AttemptRetried)),
        failed_command=failed[-1] if failed and status != "passed" else None,
    )


_STEP_TITLES = {
    "resolve": "resolve (no matching distribution)",
    "install": "install",
    "import": "import",
    "version": "version mismatch",
    "agent": "agent",
}


def _headline(summary: Summary) -> str:
    if summary.status == "passed":
        return "PASSED"
    if summary.status == "failed":
        return f"FAILED at step {_STEP_TITLES.get(summary.step or '', summary.step)}"
    return "INCOMPLETE (no verdict)"


def render_terminal(events: Iterable[Event]) -> str:
    """A short console report: outcome, target, resolved versions, and the reason."""
    summary = summarize(events)
    lines = [f"usertest: {_headline(summary)}"]
    if summary.persona_id:
        lines.append(f"  persona/mission: {summary.persona_id} / {summary.mission_id}")
    if summary.installer:
        lines.append(f"  target: {summary.installer}: {' '.join(summary.requirements)}")
    if summary.index_url:
        lines.append(f"  index: {summary.index_url}")
    if summary.resolved:
        resolved = ", ".join(f"{name}=={v}" for name, v in sorted(summary.resolved.items()))
        lines.append(f"  installed: {resolved}")
    if summary.retries:
        lines.append(f"  retries: {summary.retries}")
    lines.append(f"  {summary.message}")
    if summary.failed_command is not None:
        output = (summary.failed_command.stderr_tail or summary.failed_command.stdout_tail).strip()
        for line in output.splitlines()[-8:]:
            lines.append(f"    | {line}")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _short_argv(argv: Sequence[str], limit: int = 100) -> str:
    """``python -m pip install …``: the program's base name, long or multi-line arguments elided."""
    if not argv:
        return "?"
    words = [argv[0].rsplit("/", 1)[-1]]
    for arg in argv[1:]:
        word = "…" if "\n" in arg or len(arg) > 60 else arg
        if len(" ".join([*words, word])) > limit:
            words.append("…")
            break
        words.append(word)
    return " ".join(words)


def render_event(event: Event) -> str:
    """One line describing one event (for progress output and the Markdown timeline)."""
    if isinstance(event, WorkspaceCreated):
        return f"workspace created: `{event.path}`"
    if isinstance(event, InstallStarted):
        return f"install started ({event.installer}): `{' '.join(event.requirements)}` from `{event.index_url}`"
    if isinstance(event, InstallFinished):
        state = "ok" if event.ok else "failed"
        return f"install finished ({event.installer}, {state}, {event.duration_s:g} s)"
    if isinstance(event, CommandOutput):
        return f"command `{_short_argv(event.argv)}` exited {event.exit_code} ({event.duration_s:g} s)"
    if isinstance(event, AttemptRetried):
        return f"attempt {event.attempt} retried after {event.wait_seconds:g} s: {event.reason}"
    return f"verdict: {'passed' if event.passed else 'failed'} at {event.step}: {event.message}"


def render_markdown(events: Iterable[Event]) -> str:
    """A Markdown report: headline, facts table, installed versions, timeline, failing output."""
    events = list(events)
    summary = summarize(events)
    icon = {"passed": "✅", "failed": "❌"}.get(summary.status, "⚠️")
    out = [f"## {icon} usertest {_headline(summary)}", "", _md_cell(summary.message), ""]
    facts: list[tuple[str, str]] = []
    if summary.persona_id:
        facts += [("persona", summary.persona_id), ("mission", summary.mission_id or "")]
    if summary.installer:
        facts += [("installer", summary.installer), ("target", " ".join(summary.requirements))]
    if summary.index_url:
        facts.append(("index", summary.index_url))
    facts += [("step", summary.step or "-"), ("commands", str(summary.commands)), ("retries", str(summary.retries))]
    out += ["| | |", "| --- | --- |", *(f"| {k} | `{_md_cell(v)}` |" for k, v in facts), ""]
    if summary.resolved:
        out += ["### Installed versions", "", "| distribution | version |", "| --- | --- |"]
        out += [f"| {name} | {v} |" for name, v in sorted(summary.resolved.items())]
        out.append("")
    out += ["### Timeline", "", *(f"{n}. {_md_cell(render_event(e))}" for n, e in enumerate(events, 1)), ""]
    if summary.failed_command is not None:
        command = summary.failed_command
        out += [f"### Output of the failing command (exit {command.exit_code})", ""]
        if command.stderr_tail.strip():
            out += ["stderr (tail):", "", _fence(command.stderr_tail), ""]
        if command.stdout_tail.strip():
            out += ["stdout (tail):", "", _fence(command.stdout_tail), ""]
    return "\n".join(out).rstrip() + "\n"


def _summary_dict(summary: Summary) -> dict[str, Any]:
    data = asdict(summary)
    data["requirements"] = list(summary.requirements)
    data["passed"] = summary.passed
    data.pop("failed_command")
    data["failed_command"] = json.loads(to_json_line(summary.failed_command)) if summary.failed_command else None
    return data


def render_json(events: Sequence[Event] | Iterable[Event], *, indent: int | None = 2) -> str:
    """``{"schema": 1, "passed", "status", "step", "message", "summary", "events": [...]}``.

    ``events`` holds each event as written by :func:`normalized_events.to_json_line`, so the
    list can be fed back through ``from_json_line``.
    """
    events = list(events)
    summary = summarize(events)
    document = {
        "schema": JSON_SCHEMA_VERSION,
        "passed": summary.passed,
        "status": summary.status,
        "step": summary.step,
        "message": summary.message,
        "summary": _summary_dict(summary),
        "events": [json.loads(to_json_line(e)) for e in events],
    }
    return json.dumps(document, indent=indent, ensure_ascii=False) + "\n"
