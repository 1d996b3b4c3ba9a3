import sys
from importlib.metadata import version

import runner_core
from runner_core import run, succeeded


def test_version_comes_from_installed_metadata() -> None:
    assert runner_core.__version__ == version("runner-core")


def test_run_captures_output_and_return_code() -> None:
    event = run([sys.executable, "-c", "print('hi')"])
    assert event.kind == "command.finished"
    assert event.payload["stdout"].strip() == "hi"
    assert succeeded(event)


def test_run_reports_a_failing_command() -> None:
    event = run([sys.executable, "-c", "raise SystemExit(3)"])
    assert event.payload["returncode"] == 3
    assert not succeeded(event)


def test_run_turns_a_missing_program_into_an_event() -> None:
    event = run(["definitely-not-a-real-program-xyz"])
    assert event.kind == "command.failed"
    assert "FileNotFoundError" in event.payload["error"]
