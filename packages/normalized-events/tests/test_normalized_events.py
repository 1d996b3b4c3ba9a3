import dataclasses
import io
import json
from importlib.metadata import version

import normalized_events
import pytest
from normalized_events import (
    EVENT_TYPES,
    STEPS,
    AttemptRetried,
    CommandOutput,
    EventError,
    EventLog,
    InstallFinished,
    InstallStarted,
    Verdict,
    WorkspaceCreated,
    from_json_line,
    read_events,
    tail,
    to_json_line,
    write_events,
)

EXAMPLES = [
    WorkspaceCreated(path="/tmp/usertest-x", persona_id="quickstart_sprinter", mission_id="first_output_smoke"),
    InstallStarted(
        installer="pdm",
        requirements=("agent-adapters==0.1.0.dev7", "normalized-events==0.1.0.dev7"),
        index_url="https://***:***@gitlab.example.com/api/v4/projects/42/packages/pypi/simple",
        extra_index_urls=("https://pypi.org/simple",),
        venv="/tmp/usertest-x/.venv",
    ),
    InstallFinished(installer="pip", ok=True, resolved={"agent-adapters": "0.1.0.dev7", "runner-core": "0.1.0.dev7"}, duration_s=1.25),
    CommandOutput(argv=("python", "-c", "print('é | \"quoted\"')"), exit_code=0, stdout_tail="é | \"quoted\"\n", stderr_tail="", duration_s=0.05),
    CommandOutput(argv=("codex", "exec", "x"), exit_code=75, stdout_tail="", stderr_tail="rate limit\n"),
    AttemptRetried(attempt=2, wait_seconds=2.0, reason="rate limited (exit code 75)"),
    Verdict(passed=False, step="version", message="agent-adapters: requested ==0.1.0.dev7, installed 0.1.0.dev6"),
    Verdict(passed=True, step="agent", message=""),
]


def test_version_comes_from_installed_metadata() -> None:
    assert normalized_events.__version__ == version("normalized-events")


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.kind)
def test_every_kind_round_trips_exactly_through_one_line(event: object) -> None:
    line = to_json_line(event)  # type: ignore[arg-type]
    assert "\n" not in line
    back = from_json_line(line)
    assert back == event
    assert type(back) is type(event)
    for field in dataclasses.fields(back):
        assert type(getattr(back, field.name)) is type(getattr(event, field.name)), field.name


def test_the_line_is_plain_json_with_the_kind_first() -> None:
    line = to_json_line(AttemptRetried(attempt=1, wait_seconds=1.0, reason="rate limited"))
    assert line == '{"kind":"attempt.retried","attempt":1,"wait_seconds":1.0,"reason":"rate limited"}'
    assert json.loads(to_json_line(EXAMPLES[1]))["requirements"] == list(EXAMPLES[1].requirements)


def test_every_kind_has_an_example() -> None:
    assert {e.kind for e in EXAMPLES} == set(EVENT_TYPES)


def test_events_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        EXAMPLES[-1].passed = False  # type: ignore[misc]


def test_read_events_skips_blank_lines_and_keeps_order() -> None:
    lines = [to_json_line(EXAMPLES[0]), "", "   \n", to_json_line(EXAMPLES[-1]) + "\n"]
    assert read_events(lines) == [EXAMPLES[0], EXAMPLES[-1]]


def test_write_then_read_a_stream() -> None:
    stream = io.StringIO()
    write_events(EXAMPLES, stream)
    stream.seek(0)
    assert read_events(stream) == EXAMPLES


def test_unknown_kind_is_a_clear_error_listing_the_known_ones() -> None:
    with pytest.raises(EventError) as info:
        read_events([to_json_line(EXAMPLES[0]), '{"kind": "install.exploded", "x": 1}'])
    message = str(info.value)
    assert "line 2" in message
    assert "unknown event kind 'install.exploded'" in message
    for kind in EVENT_TYPES:
        assert kind in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "no \"kind\""),
        ('{"payload": {}}', "no \"kind\""),
        ('{"kind": "verdict", "passed": true}', "step"),
        ('{"kind": "verdict", "passed": "yes", "step": "agent"}', "verdict.passed: expected true or false"),
        ('{"kind": "command.output", "argv": ["x"], "exit_code": true}', "command.output.exit_code: expected an integer"),
        ('{"kind": "command.output", "argv": "x", "exit_code": 0}', "command.output.argv: expected an array"),
        ('{"kind": "install.finished", "installer": "pip", "ok": true, "resolved": {"a": 1}}', "expected a string"),
        ('{"kind": "attempt.retried", "attempt": 1, "wait_seconds": 1, "reason": "x", "extra": 1}', "unknown field(s) extra"),
        ('{"kind": "verdict", "passed": false, "step": "deploy"}', "verdict step must be one of"),
    ],
)
def test_malformed_lines_are_rejected_with_the_reason(line: str, expected: str) -> None:
    with pytest.raises(EventError) as info:
        from_json_line(line)
    assert expected in str(info.value)
    assert isinstance(info.value, ValueError)


def test_integer_seconds_read_back_as_floats() -> None:
    event = from_json_line('{"kind": "attempt.retried", "attempt": 1, "wait_seconds": 2, "reason": "r"}')
    assert event == AttemptRetried(attempt=1, wait_seconds=2.0, reason="r")
    assert isinstance(event.wait_seconds, float)  # type: ignore[union-attr]


def test_verdict_steps_are_the_documented_ones() -> None:
    assert STEPS == ("resolve", "install", "import", "version", "agent")
    with pytest.raises(EventError):
        Verdict(passed=False, step="build")


def test_event_log_collects_and_appends_to_a_file(tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    log = EventLog(path)
    for event in EXAMPLES:
        log(event)
    assert list(log) == EXAMPLES and len(log) == len(EXAMPLES)
    assert read_events(path.read_text(encoding="utf-8").splitlines()) == EXAMPLES
    assert log.verdict() == EXAMPLES[-1]
    assert log.of(AttemptRetried) == [EXAMPLES[5]]
    assert EventLog().verdict() is None


def test_tail_keeps_the_end() -> None:
    assert tail("abcdef", 3) == "def"
    assert tail("ab", 3) == "ab"
