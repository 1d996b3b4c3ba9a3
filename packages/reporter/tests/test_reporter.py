import json
from importlib.metadata import version

from normalized_events import (
    AttemptRetried,
    CommandOutput,
    InstallFinished,
    InstallStarted,
    Verdict,
    WorkspaceCreated,
    from_json_line,
)

import reporter
from reporter import (
    render_event,
    render_json,
    render_markdown,
    render_terminal,
    summarize,
)

INDEX = "https://***:***@gitlab.example.com/api/v4/projects/7/packages/pypi/simple"
BASE = [
    WorkspaceCreated(path="/tmp/usertest-abc", persona_id="quickstart_sprinter", mission_id="first_output_smoke"),
    InstallStarted(installer="pip", requirements=("agent-adapters==0.1.0.dev7",), index_url=INDEX, venv="/tmp/usertest-abc/.venv"),
    CommandOutput(argv=("/tmp/usertest-abc/.venv/bin/python", "-m", "pip", "install", "--isolated"), exit_code=0, duration_s=1.5),
    InstallFinished(installer="pip", ok=True, resolved={"agent-adapters": "0.1.0.dev6"}, duration_s=1.6),
]
FAILED = [
    *BASE,
    CommandOutput(argv=("python", "-c", "import sys\nprint('x')"), exit_code=0, stdout_tail="USERTEST-PROBE:{}"),
    Verdict(passed=False, step="version", message="version mismatch: agent-adapters: requested ==0.1.0.dev7, installed 0.1.0.dev6"),
]
PASSED = [
    *BASE,
    CommandOutput(argv=("my-check",), exit_code=75, stderr_tail="rate limit | slow down\n```\nfenced"),
    AttemptRetried(attempt=1, wait_seconds=1.0, reason="rate limited (exit code 75)"),
    CommandOutput(argv=("my-check",), exit_code=0, stdout_tail="ok\n"),
    Verdict(passed=True, step="agent", message="`my-check` exited 0"),
]


def test_version_comes_from_installed_metadata() -> None:
    assert reporter.__version__ == version("reporter")


def test_summary_folds_the_run() -> None:
    summary = summarize(FAILED)
    assert (summary.status, summary.step, summary.passed) == ("failed", "version", False)
    assert summary.persona_id == "quickstart_sprinter" and summary.mission_id == "first_output_smoke"
    assert summary.requirements == ("agent-adapters==0.1.0.dev7",)
    assert summary.resolved == {"agent-adapters": "0.1.0.dev6"}
    assert (summary.commands, summary.retries) == (2, 0)
    passed = summarize(PASSED)
    assert passed.passed and passed.retries == 1 and passed.failed_command is None
    assert summarize(BASE).status == "incomplete"


def test_terminal_report_names_the_failing_step() -> None:
    text = render_terminal(FAILED)
    lines = text.splitlines()
    assert lines[0] == "usertest: FAILED at step version mismatch"
    assert "  target: pip: agent-adapters==0.1.0.dev7" in lines
    assert "  installed: agent-adapters==0.1.0.dev6" in lines
    assert f"  index: {INDEX}" in lines
    assert lines[-1].endswith("installed 0.1.0.dev6")
    assert render_terminal(PASSED).startswith("usertest: PASSED\n")
    assert "INCOMPLETE" in render_terminal([])


def test_terminal_report_shows_the_failing_output() -> None:
    events = [*BASE, CommandOutput(argv=("pip",), exit_code=1, stderr_tail="ERROR: No matching distribution found for x==9"),
              Verdict(passed=False, step="resolve", message="pip install failed")]
    text = render_terminal(events)
    assert text.splitlines()[0] == "usertest: FAILED at step resolve (no matching distribution)"
    assert "    | ERROR: No matching distribution found for x==9" in text


def test_markdown_report() -> None:
    md = render_markdown(PASSED)
    assert md.startswith("## ✅ usertest PASSED\n")
    assert "| installer | `pip` |" in md
    assert "| agent-adapters | 0.1.0.dev6 |" in md
    assert "attempt 1 retried after 1 s: rate limited (exit code 75)" in md
    assert "### Output" not in md  # nothing failed in the end
    failed = render_markdown([*FAILED[:-1], PASSED[4], FAILED[-1]])
    assert failed.startswith("## ❌ usertest FAILED at step version mismatch")
    assert "### Output of the failing command (exit 75)" in failed
    assert "````text\nrate limit | slow down\n```\nfenced\n````" in failed  # a longer fence than the content's
    assert "rate limit \\| slow down" not in failed.split("### Output")[0]


def test_json_report_round_trips_the_events() -> None:
    document = json.loads(render_json(FAILED))
    assert (document["schema"], document["passed"], document["status"], document["step"]) == (1, False, "failed", "version")
    assert document["summary"]["resolved"] == {"agent-adapters": "0.1.0.dev6"}
    assert [from_json_line(json.dumps(e)) for e in document["events"]] == FAILED
    assert json.loads(render_json(PASSED, indent=None))["passed"] is True


def test_render_event_keeps_long_commands_short() -> None:
    line = render_event(FAILED[4])
    assert line == "command `python -c …` exited 0 (0 s)"
    assert render_event(BASE[2]) == "command `python -m pip install --isolated` exited 0 (1.5 s)"
    long = CommandOutput(argv=("pdm", *[f"package-number-{i}==1.0" for i in range(20)]), exit_code=0)
    assert len(render_event(long)) < 140 and render_event(long).count("…") == 1
